"""The default taxonomy and departments, seeded by a data migration.

Kept as plain data so migrations, tests and the classifier agree on one list.
"""

DEPARTMENTS = [
    # code, 中文, English
    ("logistics", "物流部", "Logistics"),
    ("merchandising", "商品内容部", "Merchandising"),
    ("warehouse", "仓储包装部", "Warehouse & Packaging"),
    ("quality", "品控采购部", "Quality & Sourcing"),
    ("customer_service", "客服部", "Customer Service"),
    ("after_sales", "售后部", "After-sales"),
    ("operations", "运营部", "Operations"),
]

CATEGORIES = [
    # code, 中文, English, default department, description
    ("logistics_delay", "物流时效", "Logistics delay", "logistics",
     "发货慢、配送慢、延误或未送达，快递员问题（态度差、不送货上门、丢件）。"),
    ("description_mismatch", "描述不符", "Description mismatch", "merchandising",
     "实物与商品页、图片或宣传不符：色差、尺码、材质、规格参数、分量不足、宣传的功能没有。"),
    ("damaged", "破损变质", "Damaged or spoiled", "warehouse",
     "到货破损、压坏、裂开、划伤、漏液、被拆封，或腐烂、变质、发霉、过期。"),
    ("wrong_or_missing", "错发漏发", "Wrong or missing item", "warehouse",
     "发错商品、型号、颜色或尺码；配件、赠品、说明书、发票缺失；数量不足。"),
    ("quality_defect", "质量问题", "Quality defect", "quality",
     "使用中的质量问题：故障、无法使用、用后损坏、发热、做工或材料差（掉色、起球、开线）。"),
    ("counterfeit", "疑似假货", "Suspected counterfeit", "quality",
     "怀疑假货、非正品，翻新或二手当新品销售。"),
    ("service", "客服服务", "Customer service", "customer_service",
     "客服或商家不回复、态度差、推诿或误导（不含快递员与退货流程本身）。"),
    ("after_sales", "退换售后", "Returns and after-sales", "after_sales",
     "退货、换货、退款、保修、维修或安装服务的问题。"),
    ("price", "价格优惠", "Price and promotions", "operations",
     "买后降价、保价被拒、优惠券或活动不兑现、主要抱怨不值这个价。"),
    ("other", "其他", "Other", "customer_service",
     "纯主观不喜欢（口味、气味、款式、书的内容）、没有理由的差评、与商品或订单无关。"),
]

CATEGORY_CODES = [row[0] for row in CATEGORIES]

# The English of each seeded category's description (Category.description_en), by code.
CATEGORY_DESCRIPTIONS_EN = {
    "logistics_delay": "Slow dispatch or delivery, delays, parcels that never arrive, and courier problems "
                       "(rude couriers, no delivery to the door, lost parcels).",
    "description_mismatch": "The item differs from the product page, photos or advertising: colour, size, material, "
                            "specifications, less than the stated amount, or an advertised feature missing.",
    "damaged": "Arrived broken, crushed, cracked, scratched, leaking or already opened; or rotten, spoiled, "
               "mouldy or past its date.",
    "wrong_or_missing": "The wrong item, model, colour or size was sent; parts, gifts, manuals or the invoice are "
                        "missing; fewer items than ordered.",
    "quality_defect": "Problems in use: faults, does not work, breaks after some use, overheats, poor workmanship "
                      "or material (fading, pilling, loose seams).",
    "counterfeit": "Suspected fake or not genuine, or refurbished or second-hand goods sold as new.",
    "service": "Customer service or the seller does not answer, is rude, passes the buck or misleads "
               "(not couriers, and not the return process itself).",
    "after_sales": "Problems with a return, exchange, refund, warranty, repair or installation.",
    "price": "The price dropped after purchase, price protection was refused, a coupon or promotion was not "
             "honoured, or the main complaint is that it is not worth the money.",
    "other": "Purely personal dislike (taste, smell, style, a book's content), negative reviews with no reason, "
             "or nothing to do with the product or the order.",
}
