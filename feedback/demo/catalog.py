"""The demo shop: its accounts and its product list, as plain data.

Product categories use exactly the classifier's vocabulary (水果, 衣服, 洗发水,
平板, 手机, 书籍, 牛奶, 热水器, 计算机). ``daily_orders`` and ``return_rate`` are
each SKU's normal business: tickets are spread over products in proportion to
them, and the orders/returns demo (issue 5) starts from the same numbers.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DemoUser:
    username: str
    password: str
    role: str  # accounts.models.Role value
    department: str | None = None  # issues.Department code: the team a lead runs or an agent is on
    first_name: str = ""
    is_staff: bool = False
    is_superuser: bool = False

    @property
    def email(self) -> str:
        return f"{self.username}@demo.example.com"


# Passwords pass the validators configured in settings (length ≥ 8, not a common password).
# Every department (feedback/taxonomy.py DEPARTMENTS) has a lead and at least one agent on its team,
# so every open issue has someone who may act on it and someone it can be assigned to.
DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("agent", "demo-agent-2026", "agent", "customer_service", first_name="王小雨"),
    DemoUser("lead_logistics", "demo-logistics-2026", "lead", "logistics", first_name="陈立"),
    DemoUser("lead_merch", "demo-merch-2026", "lead", "merchandising", first_name="林佳"),
    DemoUser("lead_warehouse", "demo-warehouse-2026", "lead", "warehouse", first_name="赵磊"),
    DemoUser("lead_quality", "demo-quality-2026", "lead", "quality", first_name="孙浩"),
    DemoUser("lead_service", "demo-service-2026", "lead", "customer_service", first_name="吴婷"),
    DemoUser("lead_aftersales", "demo-aftersales-2026", "lead", "after_sales", first_name="郑强"),
    DemoUser("lead_operations", "demo-operations-2026", "lead", "operations", first_name="冯雪"),
    DemoUser("agent_logistics", "demo-agent-logistics-2026", "agent", "logistics", first_name="何静"),
    DemoUser("agent_merch", "demo-agent-merch-2026", "agent", "merchandising", first_name="高远"),
    DemoUser("agent_warehouse", "demo-agent-warehouse-2026", "agent", "warehouse", first_name="马丽"),
    DemoUser("agent_quality", "demo-agent-quality-2026", "agent", "quality", first_name="罗斌"),
    DemoUser("agent_aftersales", "demo-agent-aftersales-2026", "agent", "after_sales", first_name="梁晨"),
    DemoUser("agent_operations", "demo-agent-operations-2026", "agent", "operations", first_name="宋佳"),
    DemoUser("manager", "demo-manager-2026", "manager", first_name="周敏"),
    DemoUser("admin", "demo-admin-2026", "admin", first_name="系统管理员", is_staff=True, is_superuser=True),
)
DEMO_USERNAMES: tuple[str, ...] = tuple(u.username for u in DEMO_USERS)
# Who files which demo tickets: agents type in chat, phone and e-mail complaints;
# platform exports, reviews and app feedback arrive through imports run by the admin.
MANUAL_FILER = "agent"
IMPORT_FILER = "admin"


@dataclass(frozen=True)
class DemoProduct:
    sku: str
    name: str
    product_category: str
    noun: str  # what a customer calls it in a complaint: 橙子, T恤, 洗发水
    daily_orders: int  # baseline orders per day
    return_rate: float  # baseline share of orders returned


PRODUCT_CATEGORIES: tuple[str, ...] = ("水果", "衣服", "洗发水", "平板", "手机", "书籍", "牛奶", "热水器", "计算机")

PRODUCTS: tuple[DemoProduct, ...] = (
    DemoProduct("FR-1001", "赣南脐橙 5斤装 当季现摘", "水果", "橙子", 520, 0.030),
    DemoProduct("FR-1002", "海南贵妃芒 3斤装 中大果", "水果", "芒果", 380, 0.035),
    DemoProduct("FR-1003", "智利车厘子 JJ级 2斤礼盒", "水果", "车厘子", 210, 0.040),
    DemoProduct("FR-1004", "烟台红富士苹果 10斤装", "水果", "苹果", 300, 0.025),
    DemoProduct("FR-1005", "广西武鸣沃柑 5斤装", "水果", "沃柑", 260, 0.030),
    DemoProduct("FR-1006", "丹东99草莓 3斤装 冷链", "水果", "草莓", 150, 0.050),
    DemoProduct("CL-2001", "男士纯棉圆领短袖T恤", "衣服", "T恤", 640, 0.120),
    DemoProduct("CL-2002", "女士轻薄白鸭绒羽绒服", "衣服", "羽绒服", 180, 0.150),
    DemoProduct("CL-2003", "高腰直筒牛仔裤 弹力款", "衣服", "牛仔裤", 260, 0.140),
    DemoProduct("CL-2004", "碎花雪纺连衣裙 夏季新款", "衣服", "连衣裙", 220, 0.160),
    DemoProduct("CL-2005", "加绒连帽卫衣 宽松版", "衣服", "卫衣", 300, 0.100),
    DemoProduct("CL-2006", "儿童纯棉家居服套装", "衣服", "家居服", 150, 0.080),
    DemoProduct("CL-2007", "羊毛混纺针织开衫", "衣服", "开衫", 120, 0.110),
    DemoProduct("SH-3001", "氨基酸控油洗发水 750ml", "洗发水", "洗发水", 450, 0.020),
    DemoProduct("SH-3002", "生姜防脱洗发露 500ml", "洗发水", "洗发露", 260, 0.020),
    DemoProduct("SH-3003", "去屑止痒洗发水 400ml×2瓶", "洗发水", "洗发水", 300, 0.015),
    DemoProduct("SH-3004", "无硅油柔顺洗发水 家庭装 1L", "洗发水", "洗发水", 200, 0.020),
    DemoProduct("TB-4001", "11英寸平板电脑 8+256GB WiFi版", "平板", "平板", 90, 0.040),
    DemoProduct("TB-4002", "儿童学习平板 10.1英寸 护眼屏", "平板", "学习平板", 70, 0.050),
    DemoProduct("TB-4003", "12.4英寸二合一平板 含键盘", "平板", "平板", 40, 0.045),
    DemoProduct("PH-5001", "5G智能手机 12+256GB 曜石黑", "手机", "手机", 160, 0.040),
    DemoProduct("PH-5002", "老人手机 大字大声 4G全网通", "手机", "老人机", 80, 0.050),
    DemoProduct("PH-5003", "折叠屏手机 12+512GB", "手机", "折叠屏手机", 30, 0.060),
    DemoProduct("PH-5004", "千元5G手机 8+128GB", "手机", "手机", 200, 0.050),
    DemoProduct("PH-5005", "旗舰影像手机 16+512GB", "手机", "手机", 60, 0.035),
    DemoProduct("BK-6001", "《三体》全集 典藏版", "书籍", "书", 220, 0.020),
    DemoProduct("BK-6002", "小学生课外阅读 全8册", "书籍", "套书", 180, 0.025),
    DemoProduct("BK-6003", "Python编程 从入门到实践", "书籍", "书", 90, 0.020),
    DemoProduct("BK-6004", "考研英语词汇 乱序版", "书籍", "单词书", 140, 0.020),
    DemoProduct("BK-6005", "儿童绘本 0-3岁 精装10册", "书籍", "绘本", 110, 0.030),
    DemoProduct("MK-7001", "全脂纯牛奶 250ml×24盒", "牛奶", "牛奶", 600, 0.015),
    DemoProduct("MK-7002", "高钙低脂牛奶 250ml×12盒", "牛奶", "牛奶", 300, 0.015),
    DemoProduct("MK-7003", "儿童成长牛奶 190ml×15盒", "牛奶", "儿童奶", 200, 0.020),
    DemoProduct("MK-7004", "冷链鲜牛奶 950ml×2瓶", "牛奶", "鲜奶", 150, 0.030),
    DemoProduct("WH-8001", "60升电热水器 一级能效 速热", "热水器", "热水器", 70, 0.030),
    DemoProduct("WH-8002", "16升燃气热水器 零冷水恒温", "热水器", "燃气热水器", 50, 0.030),
    DemoProduct("WH-8003", "即热式小厨宝 5.5kW", "热水器", "小厨宝", 40, 0.040),
    DemoProduct("PC-9001", "14英寸轻薄笔记本 i5/16G/512G", "计算机", "笔记本", 80, 0.040),
    DemoProduct("PC-9002", "16英寸游戏本 独立显卡", "计算机", "游戏本", 40, 0.045),
    DemoProduct("PC-9003", "办公台式电脑主机 i7/32G", "计算机", "电脑主机", 30, 0.030),
    DemoProduct("PC-9004", "27英寸一体机电脑", "计算机", "一体机", 20, 0.035),
)
PRODUCTS_BY_SKU: dict[str, DemoProduct] = {p.sku: p for p in PRODUCTS}
DEMO_SKUS: tuple[str, ...] = tuple(PRODUCTS_BY_SKU)
