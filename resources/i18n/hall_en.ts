<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en" sourcelanguage="zh_CN">
<context>
    <name></name>
    <message>
        <location filename="../../hall/ui/attendance_view.py" line="44"/>
        <source>日期：</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/attendance_view.py" line="58"/>
        <source>签到（在岗）</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/attendance_view.py" line="88"/>
        <source>考勤未启用：数据库尚未建立考勤数据表。</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/attendance_view.py" line="92"/>
        <source>选中一人后点按钮登记；缺勤、请假、公出时其B岗自动接手该窗口的在办办件。</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/attendance_view.py" line="98"/>
        <source>本人签到</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/attendance_view.py" line="98"/>
        <source>主任登记</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/attendance_view.py" line="99"/>
        <source>由 {0} 代岗</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/attendance_view.py" line="100"/>
        <source>代 {0} 顶岗</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/attendance_view.py" line="117"/>
        <source>考勤登记未完成</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/crash.py" line="31"/>
        <source>程序出现意外错误</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/crash.py" line="33"/>
        <source>详细记录已写入：</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/crash.py" line="34"/>
        <source>很抱歉，程序遇到意外错误。已保存的办件不受影响；正在填写的内容已自动存为草稿。
请把下面的报告复制给系统管理员。</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/crash.py" line="40"/>
        <source>复制报告</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/crash.py" line="50"/>
        <source>提示</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/dashboard.py" line="69"/>
        <source>办件清单 — </source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/dashboard.py" line="112"/>
        <source>刷新(&amp;R)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/dashboard.py" line="137"/>
        <source>按窗口</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/dashboard.py" line="137"/>
        <source>按工作人员</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/dashboard.py" line="137"/>
        <source>按办件类型</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/dashboard.py" line="152"/>
        <source>今日考勤与B岗</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/dashboard.py" line="152"/>
        <source>差评待整改</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/dashboard.py" line="153"/>
        <source>今日应回访</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/dashboard.py" line="166"/>
        <source>近30日收件与办结</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/dashboard.py" line="167"/>
        <source>各窗口在办与超期</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/dashboard.py" line="168"/>
        <source>近30日超期件数</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/dashboard.py" line="192"/>
        <source>工作日</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/dashboard.py" line="192"/>
        <source>休息日</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/dashboard.py" line="193"/>
        <source>今日 </source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/dashboard.py" line="194"/>
        <source>&#x3000;下一工作日 </source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/dashboard.py" line="195"/>
        <source>更新于 </source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/dashboard.py" line="198"/>
        <source>
最长超期 {0} 个工作日</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/dashboard.py" line="201"/>
        <source>按时办结率</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/dashboard.py" line="209"/>
        <location filename="../../hall/ui/dashboard.py" line="212"/>
        <source>，已超期</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/dashboard.py" line="215"/>
        <source>收件</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/dashboard.py" line="216"/>
        <source>办结</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/dashboard.py" line="219"/>
        <source>在办</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/dashboard.py" line="220"/>
        <location filename="../../hall/ui/dashboard.py" line="221"/>
        <source>超期</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/dashboard.py" line="233"/>
        <source>最长超期 {0} 个工作日</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/dashboard.py" line="240"/>
        <location filename="../../hall/ui/dashboard.py" line="254"/>
        <source>未启用</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/dashboard.py" line="245"/>
        <source>无</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/dashboard.py" line="261"/>
        <source>，由 {0} 代岗</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/dashboard.py" line="263"/>
        <source>，代 {0} 顶岗</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/dashboard.py" line="266"/>
        <source>B岗：{0} 代 {1}（{2}，自 {3}，手上 {4} 件）</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/drafts.py" line="68"/>
        <source>drafts</source>
        <comment>发现一份未保存的登记（{0}，{1}），可能是上次异常退出或停电留下的。

恢复这份登记吗？选“否”将删除该草稿。</comment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/drafts.py" line="70"/>
        <source>drafts</source>
        <comment>恢复未保存的登记</comment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/print_preview.py" line="153"/>
        <source>打印机无法开始打印（请检查打印机是否连接、是否缺纸）</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/print_preview.py" line="157"/>
        <source>打印机换页失败，打印未完成</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/print_preview.py" line="186"/>
        <source>打印预览 — {title} {number}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/print_preview.py" line="202"/>
        <source>打印…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/print_preview.py" line="204"/>
        <source>直接打印</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/print_preview.py" line="205"/>
        <source>打印到默认打印机：{name}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/print_preview.py" line="205"/>
        <source>（无）</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/print_preview.py" line="208"/>
        <source>关闭</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/print_preview.py" line="212"/>
        <source>纸张</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/print_preview.py" line="212"/>
        <source>缩放</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/print_preview.py" line="212"/>
        <source>份数</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/print_preview.py" line="240"/>
        <source>共 {n} 页</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/print_preview.py" line="262"/>
        <location filename="../../hall/ui/print_preview.py" line="318"/>
        <source>无法生成文书</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/print_preview.py" line="274"/>
        <location filename="../../hall/ui/print_preview.py" line="334"/>
        <source>打印失败</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/print_preview.py" line="283"/>
        <source>打印 {title}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/print_preview.py" line="292"/>
        <location filename="../../hall/ui/print_preview.py" line="327"/>
        <source>无法打印</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/print_preview.py" line="292"/>
        <source>本机没有设置默认打印机，请用“打印…”选择打印机</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/print_preview.py" line="306"/>
        <source>打印记录未保存</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/print_preview.py" line="327"/>
        <source>本机没有设置默认打印机，请在打印预览中选择打印机</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/ticket_table_model.py" line="49"/>
        <source>超期{0}个工作日</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/ticket_table_model.py" line="51"/>
        <source>今日到期</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/ticket_table_model.py" line="52"/>
        <source>{0}个工作日</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/ticket_table_model.py" line="57"/>
        <source>补正后起算</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/ticket_table_model.py" line="58"/>
        <source>（暂定）</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/ticket_table_model.py" line="160"/>
        <source>该年度节假日安排尚未确认，按周一至周五暂定计算；确认后自动重算</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ApplicantPicker</name>
    <message>
        <location filename="../../hall/ui/intake_form.py" line="676"/>
        <source>选择老申请人</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>CalendarDialog</name>
    <message>
        <location filename="../../hall/ui/calendar_dialog.py" line="58"/>
        <source>节假日与调休设置</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/calendar_dialog.py" line="62"/>
        <source>年份(&amp;Y)：</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/calendar_dialog.py" line="73"/>
        <source>日期</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/calendar_dialog.py" line="73"/>
        <source>类别</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/calendar_dialog.py" line="73"/>
        <source>名称</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/calendar_dialog.py" line="78"/>
        <source>按国务院办公厅通知录入（每行一个假期）：</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/calendar_dialog.py" line="80"/>
        <source>假期名称</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/calendar_dialog.py" line="80"/>
        <source>开始日期</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/calendar_dialog.py" line="80"/>
        <source>结束日期</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/calendar_dialog.py" line="85"/>
        <source>调休上班日，用逗号分隔，如 2027-01-31, 2027-02-20</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/calendar_dialog.py" line="87"/>
        <source>通知文号，如 国办发明电〔2026〕7号</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/calendar_dialog.py" line="88"/>
        <source>调休上班日(&amp;M)：</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/calendar_dialog.py" line="89"/>
        <source>通知文号(&amp;R)：</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/calendar_dialog.py" line="93"/>
        <source>增加假期行(&amp;A)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/calendar_dialog.py" line="96"/>
        <source>从文件载入(&amp;L)…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/calendar_dialog.py" line="98"/>
        <source>确认该年安排(&amp;C)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/calendar_dialog.py" line="107"/>
        <source>地方节假日：</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/calendar_dialog.py" line="109"/>
        <source>名称，如 三月三</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/calendar_dialog.py" line="115"/>
        <source>添加地方节假日</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/calendar_dialog.py" line="135"/>
        <source>已确认</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/calendar_dialog.py" line="136"/>
        <source>全年工作日 </source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/calendar_dialog.py" line="138"/>
        <source>暂定：尚未录入该年放假通知，按周一至周五推算；涉及该年的期限均标为“暂定”。</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/calendar_dialog.py" line="183"/>
        <source>通知文件有误</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/calendar_dialog.py" line="196"/>
        <source>无法确认</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/calendar_dialog.py" line="198"/>
        <source>确认节假日安排</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/calendar_dialog.py" line="199"/>
        <source>确认后，所有涉及该年的在办件期限将重新计算，每一项变化都记入办理记录。继续吗？</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/calendar_dialog.py" line="219"/>
        <source>工作日状态改变的日期：</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/calendar_dialog.py" line="219"/>
        <source> 个；重新计算的在办件期限：</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/calendar_dialog.py" line="220"/>
        <source> 件。</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>FirstRunDialog</name>
    <message>
        <location filename="../../hall/ui/login_dialog.py" line="110"/>
        <source>首次使用 — 设置管理员密码</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/login_dialog.py" line="112"/>
        <source>欢迎使用 Hall。已创建数据库并载入默认事项清单（11个窗口、76项事项）。
请为系统管理员（工号 admin）设置密码，至少8位。</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/login_dialog.py" line="121"/>
        <source>密码(&amp;P)：</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/login_dialog.py" line="122"/>
        <source>再输一次(&amp;A)：</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/login_dialog.py" line="135"/>
        <source>密码：两次输入不一致</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>IntakeFormWidget</name>
    <message>
        <location filename="../../hall/ui/intake_form.py" line="87"/>
        <source>请先在左侧选择事项（Ctrl+F 查找）</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/intake_form.py" line="95"/>
        <source>申请人</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/intake_form.py" line="99"/>
        <source>自然人(&amp;P)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/intake_form.py" line="100"/>
        <source>法人/其他组织(&amp;O)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/intake_form.py" line="108"/>
        <source>类型：</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/intake_form.py" line="109"/>
        <location filename="../../hall/ui/intake_form.py" line="438"/>
        <source>身份证号(&amp;I)：</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/intake_form.py" line="113"/>
        <location filename="../../hall/ui/intake_form.py" line="440"/>
        <source>18位公民身份号码，读卡或输入</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/intake_form.py" line="125"/>
        <source>性别：</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/intake_form.py" line="128"/>
        <source>出生日期：</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/intake_form.py" line="131"/>
        <source>（由证件号码得出）</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/intake_form.py" line="134"/>
        <location filename="../../hall/ui/intake_form.py" line="439"/>
        <source>姓名(&amp;N)：</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/intake_form.py" line="141"/>
        <source>电话(&amp;T)：</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/intake_form.py" line="146"/>
        <source>如 东村3组</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/intake_form.py" line="147"/>
        <source>村/组(&amp;V)：</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/intake_form.py" line="150"/>
        <source>代理人代为申请(&amp;G)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/intake_form.py" line="156"/>
        <source>代理人姓名</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/intake_form.py" line="158"/>
        <source>代理人身份证号</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/intake_form.py" line="160"/>
        <source>代理人电话</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/intake_form.py" line="164"/>
        <source>代理人：</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/intake_form.py" line="171"/>
        <source>申请材料（空格切换：已收 / 需补正 / 容缺；Alt+A 全部已收）</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/intake_form.py" line="175"/>
        <source>材料名称</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/intake_form.py" line="175"/>
        <source>形式/份数</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/intake_form.py" line="175"/>
        <source>状态</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/intake_form.py" line="187"/>
        <source>办件类型(&amp;K)：</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/intake_form.py" line="195"/>
        <source>改变类型的原因</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/intake_form.py" line="201"/>
        <source>备注(&amp;E)：</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/intake_form.py" line="212"/>
        <source>不予受理</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/intake_form.py" line="216"/>
        <source>必须写明理由</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/intake_form.py" line="218"/>
        <source>告知其向哪个机关申请（如有）</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/intake_form.py" line="219"/>
        <source>理由：</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/intake_form.py" line="220"/>
        <source>应向：</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/intake_form.py" line="224"/>
        <source>承诺办结期限</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/intake_form.py" line="240"/>
        <location filename="../../hall/ui/intake_form.py" line="520"/>
        <location filename="../../hall/ui/intake_form.py" line="599"/>
        <source>保存 Enter</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/intake_form.py" line="243"/>
        <source>不予受理 Alt+R</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/intake_form.py" line="244"/>
        <source>清空 Ctrl+Shift+N</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/intake_form.py" line="245"/>
        <source>查找老申请人 Ctrl+L</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/intake_form.py" line="246"/>
        <source>打印 Ctrl+P</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/intake_form.py" line="248"/>
        <source>打印 Ctrl+Shift+P</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/intake_form.py" line="345"/>
        <source>事项：{0} {1}（{2}窗口，默认{3}）</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/intake_form.py" line="417"/>
        <source>不予受理：不计办结期限</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/intake_form.py" line="418"/>
        <source>保存后登记为“不予受理”，打印不予受理通知书（Ctrl+P）</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/intake_form.py" line="420"/>
        <source>补正后起算（若今日收齐：{0}）</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/intake_form.py" line="421"/>
        <source>缺 {0} 项材料，保存后登记为“待补正”，一次性告知：{1}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/intake_form.py" line="424"/>
        <source>承诺办结日期：{0}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/intake_form.py" line="426"/>
        <source>当场办结</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/intake_form.py" line="426"/>
        <source>受理</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/intake_form.py" line="427"/>
        <source>，容缺：{0}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/intake_form.py" line="428"/>
        <source>材料齐全，保存后{0}{1}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/intake_form.py" line="431"/>
        <source>暂定：该年度节假日安排尚未确认，按周一至周五计算，确认后自动重算。</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/intake_form.py" line="438"/>
        <source>信用代码(&amp;I)：</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/intake_form.py" line="439"/>
        <source>单位名称(&amp;N)：</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/intake_form.py" line="441"/>
        <source>18位统一社会信用代码</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/intake_form.py" line="465"/>
        <source>证件号码有效</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/intake_form.py" line="465"/>
        <source>（地区码不常见，请核对证件）</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/intake_form.py" line="469"/>
        <source>统一社会信用代码有效</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/intake_form.py" line="497"/>
        <source>老申请人：已带出上次登记的姓名、电话和村/组，请核对</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/intake_form.py" line="503"/>
        <location filename="../../hall/ui/intake_form.py" line="507"/>
        <source>查找老申请人</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/intake_form.py" line="503"/>
        <source>请先输入姓名、拼音首字母或证件号码</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/intake_form.py" line="507"/>
        <source>没有找到“{0}”的登记记录</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/intake_form.py" line="520"/>
        <source>保存为不予受理 Enter</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/intake_form.py" line="544"/>
        <source>无法保存</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/intake_form.py" line="544"/>
        <source>请先选择事项</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/intake_form.py" line="550"/>
        <source>未保存</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/intake_form.py" line="566"/>
        <source>，承诺办结日期 {0}{1}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/intake_form.py" line="568"/>
        <source>已保存 {0}：{1}{2}。</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/intake_form.py" line="570"/>
        <source>需补正：{0}。</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/intake_form.py" line="577"/>
        <source>打印{0} {1}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/intake_form.py" line="610"/>
        <source>清空登记</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/intake_form.py" line="611"/>
        <source>清空当前未保存的登记吗？已输入的内容将被删除。</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ItemFinder</name>
    <message>
        <location filename="../../hall/ui/item_finder.py" line="54"/>
        <source>查找事项(&amp;F)：</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/item_finder.py" line="57"/>
        <source>名称、编码或拼音首字母，如 dbsq</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/item_finder.py" line="66"/>
        <source>全部窗口&#x3000;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/item_finder.py" line="76"/>
        <source>编码</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/item_finder.py" line="76"/>
        <source>事项名称</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/item_finder.py" line="76"/>
        <source>类型/时限</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/item_finder.py" line="127"/>
        <source>又称：</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>LoginDialog</name>
    <message>
        <location filename="../../hall/ui/login_dialog.py" line="38"/>
        <source>登录 — Hall 便民服务中心</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/login_dialog.py" line="40"/>
        <source>便民服务中心</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/login_dialog.py" line="46"/>
        <source>工号</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/login_dialog.py" line="49"/>
        <source>工号(&amp;U)：</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/login_dialog.py" line="50"/>
        <source>密码(&amp;P)：</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/login_dialog.py" line="56"/>
        <source>本机受理点：</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/login_dialog.py" line="58"/>
        <source>登录</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/login_dialog.py" line="59"/>
        <source>退出</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/login_dialog.py" line="80"/>
        <source>正在打开数据库……</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <location filename="../../hall/ui/main_window.py" line="50"/>
        <source>Hall — </source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/main_window.py" line="68"/>
        <source>收件登记 F2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/main_window.py" line="70"/>
        <source>办件队列 F3</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/main_window.py" line="74"/>
        <source>中心看板 F4</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/main_window.py" line="76"/>
        <source>考勤 F6</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/main_window.py" line="83"/>
        <source>当前用户：</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/main_window.py" line="84"/>
        <source>&#x3000;F2 收件登记&#x3000;F3 办件队列&#x3000;Ctrl+F 查找事项&#x3000;Enter 保存&#x3000;Ctrl+P 打印</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/main_window.py" line="86"/>
        <source>受理点 </source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/main_window.py" line="88"/>
        <source>文件(&amp;F)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/main_window.py" line="89"/>
        <source>退出(&amp;X)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/main_window.py" line="93"/>
        <source>办件(&amp;B)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/main_window.py" line="94"/>
        <source>收件登记</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/main_window.py" line="94"/>
        <source>办件队列</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/main_window.py" line="95"/>
        <source>查找事项</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/main_window.py" line="97"/>
        <source>中心看板</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/main_window.py" line="98"/>
        <source>考勤</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/main_window.py" line="105"/>
        <source>管理(&amp;G)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/main_window.py" line="106"/>
        <source>执行每日规则（逾期视为认可、责任追究、回访、B岗）</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/main_window.py" line="110"/>
        <source>节假日与调休设置…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/main_window.py" line="174"/>
        <location filename="../../hall/ui/main_window.py" line="179"/>
        <source>每日规则</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/main_window.py" line="196"/>
        <source>无法恢复草稿</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/main_window.py" line="197"/>
        <source>草稿中的事项（编码 {0}）已不在当前事项清单中；草稿文件保留在 {1}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/main_window.py" line="207"/>
        <source>有未保存的登记</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/main_window.py" line="208"/>
        <source>当前登记还没有保存。仍要退出吗？
（已输入的内容作为草稿保留，下次启动时可以恢复。）</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>PaperPlan</name>
    <message>
        <location filename="../../hall/ui/ticket_detail.py" line="101"/>
        <source>{0} — 打印内容预览</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/ticket_detail.py" line="103"/>
        <source>打印模块尚未安装：以下是这份{0}将要打印的内容，不是正式文书。</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>QueueView</name>
    <message>
        <location filename="../../hall/ui/queue_view.py" line="62"/>
        <source>我的办件(&amp;M)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/queue_view.py" line="62"/>
        <source>本窗口(&amp;W)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/queue_view.py" line="62"/>
        <source>全部窗口(&amp;A)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/queue_view.py" line="77"/>
        <source>在办 F5</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/queue_view.py" line="77"/>
        <source>今日到期 F6</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/queue_view.py" line="77"/>
        <source>已超期 F7</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/queue_view.py" line="78"/>
        <source>暂定 F8</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/queue_view.py" line="95"/>
        <source>查找(&amp;S)：</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/queue_view.py" line="98"/>
        <source>办件编号、身份证号、姓名或拼音首字母</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/queue_view.py" line="186"/>
        <source>共 {0} 件&#x3000;今日到期 {1} 件&#x3000;已超期 {2} 件&#x3000;暂定期限 {3} 件</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>RatingScreen</name>
    <message>
        <location filename="../../hall/ui/rating_screen.py" line="63"/>
        <source>等候时间太长</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/rating_screen.py" line="63"/>
        <source>服务态度不好</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/rating_screen.py" line="64"/>
        <source>材料要求说不清</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/rating_screen.py" line="64"/>
        <source>来回跑了多次</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/rating_screen.py" line="65"/>
        <source>办理进度太慢</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/rating_screen.py" line="65"/>
        <source>对办理结果不满意</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/rating_screen.py" line="84"/>
        <source>这次服务您已经评价过了，不能重复评价。
感谢您的支持！</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/rating_screen.py" line="86"/>
        <source>这次评价已失效，
请工作人员重新发起评价。</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/rating_screen.py" line="87"/>
        <source>评价暂时无法提交：{0}。请告诉窗口工作人员。</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/rating_screen.py" line="110"/>
        <source>便民服务中心</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/rating_screen.py" line="115"/>
        <source>服务评价 — </source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/rating_screen.py" line="151"/>
        <source>欢迎光临</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/rating_screen.py" line="155"/>
        <source>办理业务后，请在这里对我们的服务作出评价</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/rating_screen.py" line="172"/>
        <source>请您对本次服务作出评价</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/rating_screen.py" line="206"/>
        <source>其他意见（可不填）</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/rating_screen.py" line="214"/>
        <source>返回重选</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/rating_screen.py" line="216"/>
        <source>提交评价</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/rating_screen.py" line="230"/>
        <source>感谢您的评价！</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/rating_screen.py" line="280"/>
        <source>办件编号 {0}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/rating_screen.py" line="282"/>
        <source>申请人 {0}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/rating_screen.py" line="284"/>
        <source>{0} 窗口</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/rating_screen.py" line="286"/>
        <source>&#x3000;工作人员 {0}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/rating_screen.py" line="309"/>
        <source>很抱歉让您{0}，请告诉我们原因（可多选）</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/rating_screen.py" line="329"/>
        <source>请至少选择一项原因，或写下您的意见，以便我们整改</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/rating_screen.py" line="362"/>
        <source>您的评价：{0}。我们会认真核实整改，并回访听取您的意见。</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/rating_screen.py" line="363"/>
        <source>您的评价：{0}。欢迎再次光临！</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/rating_screen.py" line="473"/>
        <source>无法请申请人评价</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>TicketDetailDialog</name>
    <message>
        <location filename="../../hall/ui/ticket_detail.py" line="313"/>
        <source>办件 {0}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/ticket_detail.py" line="324"/>
        <source>申请人</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/ticket_detail.py" line="330"/>
        <source>显示完整号码(&amp;R)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/ticket_detail.py" line="332"/>
        <source>查看将记入办理记录</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/ticket_detail.py" line="339"/>
        <source>姓名：</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/ticket_detail.py" line="340"/>
        <source>证件：</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/ticket_detail.py" line="341"/>
        <source>联系：</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/ticket_detail.py" line="343"/>
        <source>期限与材料</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/ticket_detail.py" line="357"/>
        <source>办理记录（台账）</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/ticket_detail.py" line="361"/>
        <source>时间</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/ticket_detail.py" line="361"/>
        <source>经办人</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/ticket_detail.py" line="361"/>
        <source>办理情况</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/ticket_detail.py" line="383"/>
        <source>打印文书 Ctrl+P</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/ticket_detail.py" line="388"/>
        <source>请群众评价 F9</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/ticket_detail.py" line="392"/>
        <source>关闭 Esc</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/ticket_detail.py" line="408"/>
        <source>&lt;b&gt;{0}&lt;/b&gt;&#x3000;{1} {2}&#x3000;&lt;b&gt;{3}&lt;/b&gt;&#x3000;{4}&#x3000;{5}窗口&#x3000;经办人：{6}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/ticket_detail.py" line="417"/>
        <source>{0} 出生</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/ticket_detail.py" line="419"/>
        <source>代理人 {0}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/ticket_detail.py" line="422"/>
        <source>承诺办结日期：{0}{1}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/ticket_detail.py" line="423"/>
        <source>（暂定）</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/ticket_detail.py" line="425"/>
        <source>已超期 {0} 个工作日</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/ticket_detail.py" line="426"/>
        <source>今日到期</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/ticket_detail.py" line="427"/>
        <source>剩余 {0} 个工作日</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/ticket_detail.py" line="429"/>
        <source>待补正：补正材料收齐之日起计算期限</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/ticket_detail.py" line="431"/>
        <source>不计期限</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/ticket_detail.py" line="433"/>
        <source>办理结果：</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/ticket_detail.py" line="435"/>
        <source>不予受理理由：</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/ticket_detail.py" line="437"/>
        <source>作废原因：</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/ticket_detail.py" line="441"/>
        <source>材料：</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/ticket_detail.py" line="461"/>
        <source>对办件 {0} 执行“{1}”？</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/ticket_detail.py" line="474"/>
        <source>未能{0}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/ticket_detail.py" line="501"/>
        <source>请群众评价</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/ui/ticket_detail.py" line="501"/>
        <source>该办件当前状态不需要评价（承诺件受理后、办结后评价）</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>main</name>
    <message>
        <location filename="../../hall/__main__.py" line="49"/>
        <location filename="../../hall/__main__.py" line="68"/>
        <source>无法启动</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/__main__.py" line="64"/>
        <source>最近的备份位于：</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../hall/__main__.py" line="65"/>
        <source>无法打开数据库</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ops</name>
    <message>
        <location filename="../../hall/ui/ops.py" line="56"/>
        <source>无法完成操作</source>
        <translation type="unfinished"></translation>
    </message>
</context>
</TS>
