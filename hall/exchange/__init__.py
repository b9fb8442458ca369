"""Files that cross the program's boundary: Excel workbooks (openpyxl) and sync bundles.

Nothing here imports the UI. Readers treat every file as hostile: sizes are checked before anything is
unpacked, and every problem is reported as a ``HallError`` with a Chinese message, never a traceback.
"""
