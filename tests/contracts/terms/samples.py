"""Fixed contract texts with their terms known exactly (the extractor's tests and the demo)."""

CHINESE = """\
软件订阅服务合同
合同编号：HT-2026-0315
甲方（采购方）：上海星河科技有限公司
乙方（服务商）：北京云帆软件有限公司
第一条 服务内容
乙方向甲方提供协同办公软件的订阅服务，授权用户账号数量为200个。
第二条 服务期限
本合同服务期限为一年，自2026年3月1日起至2027年2月28日止。
第三条 合同金额及支付方式
本合同总金额为人民币壹拾伍万元整（¥150,000.00），含6%增值税。甲方应于收到乙方开具的合法有效发票后三十日内一次性支付全部款项。
第四条 续约
合同期满后自动续期一年，除非任何一方在合同到期前至少提前六十日书面通知对方不再续约。续约价格按乙方届时公布的标准价格执行。
第五条 数据
乙方应将甲方数据存储于中国境内的服务器，并遵守《个人信息保护法》。
第六条 解除
乙方有权提前三十日通知甲方解除本合同，甲方不得提前解除本合同。
签订日期：2026年2月20日
"""

ENGLISH = """\
SOFTWARE SUBSCRIPTION AGREEMENT
Agreement No.: SSA-2026-0042
This Software Subscription Agreement is entered into on February 15, 2026 by and between Shanghai Galaxy Technology Co., Ltd. (the "Customer") and Nimbus Cloud Inc. (the "Provider").
1. Subscription. Provider grants Customer access for up to two hundred fifty (250) named users.
2. Term. The Initial Term shall commence on March 1, 2026 and continue for a period of twelve (12) months, ending on February 28, 2027.
3. Fees. The total fees for the Initial Term are USD 48,000.00, exclusive of all applicable taxes. Fees are invoiced annually in advance and payable within thirty (30) days of the invoice date.
4. Renewal. This Agreement shall automatically renew for successive one-year terms unless either party gives written notice of non-renewal at least ninety (90) days prior to the end of the then-current term. Renewal fees shall not increase by more than seven percent (7%) over the prior term.
5. Termination. Either party may terminate this Agreement for convenience upon sixty (60) days' written notice.
6. Data. Upon termination, Provider shall make Customer Data available for export for thirty (30) days. Customer Data shall be stored in data centers located in Singapore. Provider shall process personal data in accordance with applicable law.
"""
