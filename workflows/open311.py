"""What Open311 clients are told of each case type (GeoReport v2 `services`): group, description, keywords.

The intake fields every type takes (its `services/{code}` attributes) are the filing's own: a title, the
severity and a subcategory (engine/cases/services.NewCase)."""
SERVICES = {  # case type code -> (group, description, keywords)
    "dispute": ("社会治理",
                "邻里、家庭、土地、劳资等矛盾纠纷，先由网格调解，未化解的逐级上交；有暴力或威胁的立即转派出所。",
                ("纠纷", "调解", "矛盾", "邻里")),
    "illegal_construction": ("城乡建设",
                             "违法建设、违法用地（两违）：现场核查、责令停工、移交自然资源或城管执法、跟踪处罚与拆除。",
                             ("违建", "两违", "违法用地", "拆除")),
    "public_health": ("公共卫生", "发热、聚集性病例、食品安全等公共卫生风险：村医初筛，镇卫生院处置，必要时报疾控。",
                      ("卫生", "发热", "食品", "疫情")),
    "work_safety": ("安全生产", "企业、场所、设施的安全隐患。", ("安全", "隐患", "消防")),
    "environment": ("生态环境", "废水、废气、噪声、垃圾等环境污染。", ("污染", "环境", "噪声", "垃圾")),
    "rental_housing": ("人口房屋", "出租房屋登记与安全管理。", ("出租房", "房屋", "租户")),
    "floating_population": ("人口房屋", "流动人口登记与服务管理。", ("流动人口", "登记")),
    "petition": ("信访维稳", "群众信访诉求。", ("信访", "诉求", "投诉")),
}
