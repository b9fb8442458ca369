"""Use cases over the models: intake, workflow, deadlines, validation, masking — no Qt, no reportlab."""
