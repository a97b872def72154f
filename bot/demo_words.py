"""Word lists for the demo data (bot/demo_data.py): names, places, products and what people write."""

from __future__ import annotations

# name, role, team, manager, lang
STAFF = (
    ("王强", "admin", None, None, "zh"),
    ("张伟", "manager", "east", None, "zh"),
    ("David Chen", "manager", "south", None, "en"),
    ("李娜", "rep", "east", "张伟", "zh"),
    ("刘洋", "rep", "east", "张伟", "zh"),
    ("Emily Zhao", "rep", "east", "张伟", "en"),
    ("陈静", "rep", "south", "David Chen", "zh"),
    ("Kevin Liu", "rep", "south", "David Chen", "en"),
    ("周婷", "supervisor", "service", None, "zh"),
    ("Mark Wu", "supervisor", "service", None, "en"),
    ("赵敏", "agent", "service", "周婷", "zh"),
    ("孙磊", "agent", "service", "周婷", "zh"),
    ("Grace Lin", "agent", "service", "Mark Wu", "en"),
)
DEFAULT_USER = "李娜"
# share of the owned customers per rep (李娜 gets the most: she is who the demo opens as)
REP_WEIGHTS = {"李娜": 44, "刘洋": 36, "Emily Zhao": 36, "陈静": 36, "Kevin Liu": 36}

# city → (province, districts, streets)
PLACES = {
    "杭州": ("浙江省", ("西湖区", "滨江区", "余杭区"), ("文三路", "江南大道", "文一西路")),
    "上海": ("上海市", ("浦东新区", "徐汇区", "闵行区"), ("张江路", "漕溪北路", "莘庄工业区春东路")),
    "苏州": ("江苏省", ("工业园区", "吴中区", "高新区"), ("星湖街", "东吴北路", "竹园路")),
    "南京": ("江苏省", ("江宁区", "鼓楼区", "建邺区"), ("胜太路", "中山北路", "江东中路")),
    "宁波": ("浙江省", ("鄞州区", "北仑区"), ("天童南路", "明州路")),
    "深圳": ("广东省", ("南山区", "福田区", "宝安区"), ("科技园南路", "深南大道", "宝安大道")),
    "广州": ("广东省", ("天河区", "黄埔区", "番禺区"), ("天河北路", "科学大道", "市桥街")),
    "北京": ("北京市", ("海淀区", "朝阳区"), ("中关村大街", "望京街")),
    "成都": ("四川省", ("高新区", "武侯区"), ("天府大道", "人民南路")),
    "武汉": ("湖北省", ("洪山区", "江汉区"), ("光谷大道", "解放大道")),
    "厦门": ("福建省", ("思明区", "湖里区"), ("软件园二期观日路", "湖里大道")),
    "合肥": ("安徽省", ("蜀山区", "包河区"), ("望江西路", "徽州大道")),
}

BRANDS = (("云栖", "Yunqi"), ("华联", "Hualian"), ("恒通", "Hengtong"), ("金桥", "Jinqiao"), ("瑞丰", "Ruifeng"),
          ("博远", "Boyuan"), ("星辰", "Xingchen"), ("鼎盛", "Dingsheng"), ("天成", "Tiancheng"),
          ("宏图", "Hongtu"), ("新锐", "Xinrui"), ("汇智", "Huizhi"), ("嘉禾", "Jiahe"), ("明德", "Mingde"),
          ("安信", "Anxin"), ("中科", "Zhongke"), ("润泽", "Runze"), ("海川", "Haichuan"), ("东方", "Dongfang"),
          ("远景", "Yuanjing"), ("启航", "Qihang"), ("长风", "Changfeng"), ("锦程", "Jincheng"), ("合力", "Heli"),
          ("创维", "Chuangwei"), ("正泰", "Zhengtai"), ("晨光", "Chenguang"), ("信达", "Xinda"), ("华辰", "Huachen"),
          ("永盛", "Yongsheng"), ("方舟", "Fangzhou"), ("青禾", "Qinghe"), ("卓越", "Zhuoyue"), ("智联", "Zhilian"))

SUFFIXES = {
    "manufacturing": (("精密机械", "Precision Machinery"), ("智能制造", "Smart Manufacturing"),
                      ("电子", "Electronics"), ("新材料", "New Materials")),
    "retail": (("商贸", "Trading"), ("百货", "Department Store"), ("连锁超市", "Supermarkets")),
    "IT": (("科技", "Technology"), ("软件", "Software"), ("信息技术", "Information Technology")),
    "finance": (("融资租赁", "Leasing"), ("投资管理", "Investment Management"), ("保险代理", "Insurance Agency")),
    "education": (("教育科技", "EdTech"), ("培训学校", "Training School")),
    "healthcare": (("医疗器械", "Medical Devices"), ("健康科技", "Health Tech"), ("医药", "Pharmaceutical")),
    "logistics": (("物流", "Logistics"), ("供应链", "Supply Chain"), ("货运", "Freight")),
    "real_estate": (("置业", "Properties"), ("物业管理", "Property Management")),
    "other": (("文化传媒", "Media"), ("环保科技", "Environmental Tech"), ("餐饮管理", "Catering")),
}
GENERIC_SUFFIX = (("实业", "Industries"),)

SURNAMES = ("王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "林",
            "高", "罗")
SURNAME_PINYIN = ("wang", "li", "zhang", "liu", "chen", "yang", "huang", "zhao", "wu", "zhou", "xu", "sun", "ma",
                  "zhu", "hu", "guo", "he", "lin", "gao", "luo")
GIVEN = ("伟", "芳", "敏", "静", "磊", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英", "建国", "晓东", "海燕",
         "志强", "丽华", "春梅", "文博", "子涵", "雨萱", "浩然")
TITLES = ("总经理", "采购经理", "IT主管", "财务总监", "行政经理", "运营总监", "技术负责人", "董事长助理")
MOBILE_PREFIXES = ("130", "131", "135", "136", "138", "139", "150", "152", "158", "177", "180", "186", "188", "199")

TAGS = ("高预算", "决策周期短", "竞品客户", "转介绍客户", "重点客户", "政府项目", "价格敏感")
# free text is in the language of the rep who entered it
SOURCES = {"zh": ("展会推广", "线上表单", "转介绍", "官网", "电话开发"),
           "en": ("trade show", "online form", "referral", "website", "cold call")}
DEMANDS = {"zh": ("希望替换现有的 Excel 管理方式，统一管理客户和订单。", "需要一套支持多门店的库存和会员系统。",
                  "关注数据安全，要求私有化部署。", "计划明年上半年上线，预算已批。", "想先小范围试用，再决定是否全面采购。",
                  "需要与现有 ERP 对接，接口要求较多。"),
           "en": ("Looking for a cloud solution with English and Chinese UI.",
                  "Wants a quote for 50 seats and on-site training.", "Needs to connect the CRM to their ERP.",
                  "Budget approved for next year; wants to start small with a pilot.")}

PRODUCTS = ("CRM 标准版年费", "CRM 专业版年费", "云服务器资源包", "技术支持服务包", "定制开发", "实施与培训服务",
            "数据迁移服务", "API 对接模块")

FU_ZH = {
    "phone": ("电话沟通了项目进度，客户表示{mood}。", "电话确认了报价细节，客户{mood}。", "电话回访使用情况，客户{mood}。"),
    "visit": ("上门拜访{title}，演示了产品，客户{mood}。", "拜访客户现场，了解了业务流程，客户{mood}。"),
    "email": ("发送了方案和报价单，客户回复{mood}。", "邮件跟进合同条款，客户{mood}。"),
    "wechat": ("微信沟通了试用反馈，客户{mood}。", "微信发送了案例资料，客户{mood}。"),
    "meeting": ("与客户开会讨论需求细节，客户{mood}。", "线上会议演示新功能，客户{mood}。"),
}
FU_EN = {
    "phone": ("Called about the project timeline; the customer {mood}.", "Phoned to confirm the quote; the customer {mood}."),
    "visit": ("Visited the {title} on site and gave a demo; the customer {mood}.",),
    "email": ("Sent the proposal and price list; the customer {mood}.",),
    "wechat": ("Shared case studies on WeChat; the customer {mood}.",),
    "meeting": ("Meeting on requirements with their team; the customer {mood}.",),
}
MOOD_ZH = {"positive": "很感兴趣，希望尽快推进", "neutral": "还在比较几家供应商", "negative": "暂时没有预算，兴趣不大"}
MOOD_EN = {"positive": "is keen to move forward", "neutral": "is still comparing vendors",
           "negative": "has no budget for now"}

OPP_NAMES = ("CRM 系统采购", "门店管理系统升级", "年度服务续约", "数据平台建设", "移动办公项目", "客服系统改造")
STAGE_NOTES = {
    "initial": "初次接触，了解基本需求。", "needs": "完成需求调研，整理需求清单。", "proposal": "已提交方案和报价。",
    "negotiation": "商务谈判中，讨论折扣和付款方式。", "won": "签约成功。", "lost": "客户选择了其他方案。",
}
LOST_REASONS = ("价格高于竞品", "客户预算取消", "选择了竞品 A 公司", "项目延期到明年", "决策人变更")
COMPETITORS = ("竞品 A 公司", "竞品 B 公司", "本地软件商", "自研系统")

TICKETS = {
    "consult": ("咨询如何批量导入客户数据。", "咨询发票开具流程。", "How do I add a new user to our account?"),
    "complaint": ("系统昨天下午无法登录，影响了门店收银两个小时。", "上门服务人员迟到且没有提前通知。",
                  "客服电话长时间无人接听。", "The last invoice was charged twice."),
    "suggestion": ("建议报表支持按周导出。", "希望手机端可以查看历史订单。"),
    "support": ("打印模板显示错位，需要技术支持。", "API 接口返回 500 错误。", "数据同步延迟超过一小时。",
                "Cannot connect the barcode scanner after the update."),
}
RESOLUTIONS = ("已远程协助完成配置，客户确认正常。", "已修复问题并发布补丁。", "已提供操作手册并电话讲解。",
               "已退还重复扣款并致歉。", "已安排工程师上门处理完毕。")
RATING_COMMENTS = {5: ("处理很及时，非常满意！", "Great service, thanks!"), 4: ("不错，希望以后更快一点。",),
                   3: ("问题解决了，但等待时间较长。",), 2: ("沟通不太顺畅。",), 1: ("问题拖了很久才解决。",)}
