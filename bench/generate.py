"""A repeatable generator of realistic, contract-valid case files.

    python -m bench.generate N OUT_DIR [--seed S] [--jobs J]

Writes N cases under OUT_DIR (sub-folders by year 2013-2025, some deeper),
about 85% in Chinese and 15% in English, 1-6 KB each (about 3 KB on average).
The front matter uses every vocabulary spelling the library accepts (Chinese
and English labels, codes, aliases, 双开, any letter case), amounts in every
accepted format, dates in all three formats, tags and ``related`` links to
other generated cases. Every person and unit is anonymous (张某, 李某某,
某区人民检察院).

The body is built from realistic phrases (收受贿赂, 违规吃喝风, 购物卡,
干预司法 …) mixed with filler words drawn, with a Zipf-like skew, from the
3,755 common characters of GB 2312 level 1, so that substring queries of 1-6
characters hit anything from almost every case to none.

Case ``i`` depends only on (seed, i): the same seed gives the same files,
whatever the number of worker processes.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from functools import lru_cache, partial
from itertools import accumulate
from pathlib import Path

from caselib.vocab import vocabularies

GENERATOR_VERSION = 1
LEXICON_SEED = 20240601  # the "language" is the same for every corpus seed
YEARS = range(2013, 2026)
EN_SHARE = 0.15

# ---------------------------------------------------------------- characters


def gb2312_level(first_row: int, last_row: int) -> list[str]:
    """The characters of GB 2312 rows ``first_row``..``last_row`` (the few unassigned codes left out)."""
    codes = (bytes([hi, lo]).decode("gb2312", errors="ignore") for hi in range(first_row, last_row + 1) for lo in range(0xA1, 0xFF))
    return [ch for ch in codes if ch]


COMMON_CHARS = gb2312_level(0xB0, 0xD7)  # GB 2312 level 1: 3,755 common characters
RARE_CHARS = gb2312_level(0xD8, 0xF7)  # level 2: never used as filler (a few occur in fixed phrases)

# ---------------------------------------------------------------- people, places

SURNAMES = "张李王赵刘陈杨黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
EN_SURNAMES = ["Zhang", "Li", "Wang", "Zhao", "Liu", "Chen", "Yang", "Huang", "Zhou", "Wu", "Xu", "Sun", "Hu", "Zhu", "Gao", "Lin", "He", "Guo", "Ma", "Luo"]
PROVINCES = {
    "安徽省": ["合肥市", "芜湖市", "蚌埠市", "淮南市", "马鞍山市", "安庆市", "滁州市", "阜阳市", "六安市", "宣城市"],
    "江苏省": ["南京市", "苏州市", "无锡市", "徐州市", "扬州市"],
    "浙江省": ["杭州市", "宁波市", "温州市", "绍兴市", "金华市"],
    "河南省": ["郑州市", "洛阳市", "开封市", "南阳市"],
    "湖北省": ["武汉市", "宜昌市", "襄阳市", "荆州市"],
    "四川省": ["成都市", "绵阳市", "宜宾市", "南充市"],
    "广东省": ["广州市", "深圳市", "佛山市", "东莞市", "湛江市"],
    "山东省": ["济南市", "青岛市", "烟台市", "潍坊市"],
    "江西省": ["南昌市", "九江市", "赣州市"],
    "湖南省": ["长沙市", "株洲市", "岳阳市", "常德市"],
}
COUNTIES = ["某县", "某区", "巢湖市", "肥东县", "肥西县", "长丰县", "庐江县"]
EN_REGIONS = ["Hefei, Anhui", "Wuhu, Anhui", "Nanjing, Jiangsu", "Hangzhou, Zhejiang", "Zhengzhou, Henan", "Wuhan, Hubei",
              "Chengdu, Sichuan", "Guangzhou, Guangdong", "Jinan, Shandong", "Changsha, Hunan", "Nanning, Guangxi"]
UNITS = [
    ("某区人民检察院", ["检察官", "检察官助理", "书记员", "副检察长", "检察长", "办公室主任", "司法警察"], "jiancha", ["prosecutor", "prosecutorial-support", "judicial-admin"]),
    ("某县人民检察院", ["检察官", "检察官助理", "书记员", "政治部主任", "检察长"], "jiancha", ["prosecutor", "prosecutorial-support", "judicial-admin"]),
    ("某市人民检察院", ["检察官", "检察官助理", "副检察长", "案件管理部主任"], "jiancha", ["prosecutor", "prosecutorial-support"]),
    ("某区人民法院", ["审判员", "法官助理", "书记员", "副庭长", "庭长", "执行局局长", "副院长"], "fayuan", ["judge", "judicial-admin"]),
    ("某县人民法院", ["审判员", "执行员", "副庭长", "立案庭庭长", "院长"], "fayuan", ["judge", "judicial-admin"]),
    ("某市中级人民法院", ["审判员", "审判长", "副庭长", "执行局副局长"], "fayuan", ["judge", "judicial-admin"]),
    ("某市公安局某分局", ["民警", "副局长", "刑警大队大队长", "治安大队副大队长", "派出所所长"], "gongan", ["police"]),
    ("某县公安局", ["民警", "交警大队中队长", "派出所副所长", "局长"], "gongan", ["police"]),
    ("某区司法局", ["司法所所长", "科员", "副局长", "社区矫正科科长"], "sifa", ["judicial-admin", "other-official"]),
    ("某县纪委监委", ["纪检监察干部", "审查调查室主任", "副主任", "常委"], "jijian", ["discipline-inspector"]),
    ("某镇人民政府", ["镇长", "副镇长", "党委书记", "财政所所长", "民政办主任"], "zhengfu", ["other-official"]),
    ("某街道办事处", ["主任", "副主任", "城管科科长", "社区党委书记"], "zhengfu", ["other-official"]),
    ("某市住房和城乡建设局", ["局长", "副局长", "质监站站长", "科长"], "zhengfu", ["other-official"]),
    ("某县自然资源局", ["所长", "副局长", "执法大队队长", "科员"], "zhengfu", ["other-official"]),
    ("某县教育局", ["局长", "财务科科长", "中学校长"], "zhengfu", ["other-official"]),
    ("某市财政局", ["科长", "副局长", "国库支付中心主任"], "zhengfu", ["other-official"]),
    ("某国有企业", ["总经理", "副总经理", "采购部经理", "财务总监", "董事长"], "qiye", ["soe-staff"]),
    ("某村民委员会", ["村委会主任", "村党支部书记", "村会计"], "cun", ["other"]),
]
EN_UNITS = [
    ("a district people's procuratorate", ["prosecutor", "prosecutor's assistant", "clerk", "deputy chief prosecutor"], "prosecutor"),
    ("a county people's court", ["judge", "judge's assistant", "enforcement officer", "deputy head of the civil division"], "judge"),
    ("a municipal public security bureau", ["police officer", "deputy director", "police station head"], "police"),
    ("a district justice bureau", ["head of a justice office", "section chief"], "judicial-admin"),
    ("a county discipline inspection commission", ["discipline inspector", "case review officer"], "discipline-inspector"),
    ("a township government", ["deputy head of the township", "finance office head"], "other-official"),
    ("a state-owned enterprise", ["procurement manager", "deputy general manager", "finance director"], "soe-staff"),
]
RELS = ["律师", "当事人", "当事人亲属", "管理服务对象", "私营企业主", "工程老板", "中间人", "特殊关系人", "下属", "某公司负责人", "同学", "老乡"]
GIFTS = ["购物卡", "加油卡", "消费卡", "月饼", "茅台酒", "高档香烟", "土特产", "微信红包", "电子红包", "现金", "名贵茶叶", "购物卡和现金", "ETC卡", "手机", "名表"]
PLACES = ["某酒店", "某KTV", "某农家乐", "某私人会所", "某茶楼", "某饭店包厢", "某4S店", "某洗浴中心", "某高尔夫球场", "某宾馆"]
BUSINESS = ["工程项目承揽", "工程款拨付", "招投标", "案件办理", "土地出让", "资质审批", "职务晋升", "企业经营", "拆迁补偿", "政府采购", "减刑假释", "取保候审", "执行款发放", "低保审批"]
ORGS = ["区纪委监委", "县纪委监委", "市纪委监委", "院党组", "驻院纪检监察组", "局党委", "市中级人民法院", "上级纪委", "派驻纪检监察组"]
CRIMES = ["受贿罪", "贪污罪", "挪用公款罪", "行贿罪", "滥用职权罪", "玩忽职守罪", "徇私枉法罪", "利用影响力受贿罪", "巨额财产来源不明罪"]
LAWS = ["《中国共产党纪律处分条例》", "《中华人民共和国监察法》", "《中华人民共和国公职人员政务处分法》", "《中国共产党廉洁自律准则》",
        "《中华人民共和国刑法》", "《检察人员纪律处分条例》", "《人民法院工作人员处分条例》", "《公安机关人民警察纪律条令》",
        "《关于领导干部干预司法活动、插手具体案件处理的记录、通报和责任追究规定》", "《司法机关内部人员过问案件的记录和责任追究规定》",
        "《关于进一步规范司法人员与当事人、律师、特殊关系人、中介组织接触交往行为的若干规定》", "中央八项规定及其实施细则"]
NOUNS = ["中央八项规定精神", "“三个规定”", "四风问题", "形式主义", "官僚主义", "廉洁自律", "理想信念", "党性修养", "纪法意识", "警示教育",
         "以案促改", "以案为鉴", "监督执纪", "审查调查", "廉政风险防控", "权力运行监督", "一把手", "关键少数", "人情往来", "圈子文化",
         "亲清政商关系", "节假日", "中秋节", "春节", "国庆节", "端午节", "违规吃喝风", "享乐主义", "奢靡之风", "司法公正", "司法公信力",
         "纪律规矩", "政治生态", "作风建设", "全面从严治党", "主体责任", "监督责任", "廉洁文化", "家风建设", "警示教育大会"]
PROVERBS = ["千里之堤，溃于蚁穴", "勿以恶小而为之", "常在河边走，哪有不湿鞋", "手莫伸，伸手必被捉", "公生明，廉生威", "堤溃蚁孔，气泄针芒",
            "物必先腐，而后虫生", "欲知平直，则必准绳", "一失足成千古恨", "温水煮青蛙"]
ANALYSIS_POINTS = ["小节不保，大节难守", "把公权当私器", "对纪律规矩缺乏敬畏", "心存侥幸、自以为隐蔽", "被“围猎”而不自知", "把人情往来当作护身符",
                   "法治意识淡薄", "宗旨意识淡漠", "以权谋私", "把组织的信任当作谋取私利的资本", "不收敛不收手", "带病提拔"]
REFORMS = ["召开专题民主生活会", "开展警示教育活动", "修订完善财务报销制度", "建立过问干预案件记录台账", "开展违规吃喝问题专项整治",
           "组织旁听庭审", "签订廉洁承诺书", "开展廉政风险点排查", "完善公务用车管理办法", "建立节假日廉洁提醒制度", "落实“一案一整改”"]
DOCS = ["《公务接待管理办法》", "《公务用车使用管理规定》", "《过问案件记录报告实施细则》", "《财务管理制度》", "《廉政风险防控手册》", "《干部八小时外监督办法》"]
MIXED = ["在某KTV消费", "驾驶SUV", "收受ETC卡", "在某4S店保养私家车", "通过微信转账", "用APP预约", "在某KTV包厢", "使用VIP会员卡", "收受iPhone手机"]

ACTS: dict[str, tuple[list[str], list[str]]] = {
    "gifts": (["收受礼品礼金", "违规收受购物卡", "收受管理服务对象所送礼品礼金", "违规收送名贵特产和礼品礼金"],
              ["accepted gifts and cash gifts", "took shopping cards from people he regulated", "accepted mooncakes and cash at the Mid-Autumn Festival"]),
    "dining": (["违规接受宴请", "接受律师宴请", "违规公款吃喝", "接受管理服务对象宴请", "违规吃喝"],
               ["accepted banquets arranged by a lawyer", "dined at public expense", "attended dinners paid for by a party to a case"]),
    "celebrations": (["违规操办婚丧喜庆事宜", "借子女婚礼大操大办", "借机敛财"], ["held a lavish wedding for his son and collected cash gifts"]),
    "allowances": (["违规发放津补贴", "违规发放福利", "巧立名目发放奖金"], ["paid unauthorised allowances to staff"]),
    "travel": (["公款旅游", "接受管理服务对象安排旅游", "以考察名义变相旅游"], ["went on a trip paid for by a contractor", "travelled at public expense"]),
    "vehicles": (["公车私用", "违规使用公务用车", "驾驶公车接送亲属"], ["used an official car for private trips", "drove an official SUV to a family wedding"]),
    "reception": (["超标准接待", "超标准公务接待", "超范围接待"], ["arranged an over-standard official reception"]),
    "entertainment": (["违规出入私人会所", "违规高消费娱乐", "在某KTV消费"], ["frequented a private club", "ran up KTV bills paid by a businessman"]),
    "non-implementation": (["贯彻决策部署不力", "只表态不落实", "搞变通做选择"], ["failed to implement decisions from above"]),
    "inaction": (["不担当不作为", "慢作为乱作为", "履职不力"], ["sat on complaints for months"]),
    "stonewalling": (["服务群众消极应付", "推诿扯皮", "门难进脸难看事难办"], ["stonewalled residents seeking help"]),
    "red-tape": (["文山会海", "督查检查过多过频", "过度留痕"], ["ordered excessive paperwork and inspections"]),
    "interference": (["干预司法", "过问案件", "插手案件", "违反“三个规定”的过问干预"], ["interfered in a pending case", "asked about a case on behalf of a relative"]),
    "improper-contact": (["违规接触当事人律师", "私下会见当事人", "违规接触律师"], ["met a lawyer privately while the case was pending"]),
    "case-leak": (["泄露案件信息", "泄露案情", "泄露工作秘密"], ["leaked details of an investigation"]),
    "unreported": (["未记录报告过问事项", "不记录不报告", "未如实记录报告过问事项"], ["did not record or report an inquiry about a case"]),
    "improper-handling": (["违规办案", "违法办案", "违反办案程序"], ["handled a case in breach of procedure"]),
    "bribe-taking": (["收受贿赂", "受贿", "非法收受他人财物", "利用职务便利收受财物"], ["took bribes", "accepted cash from a contractor", "took bribes from a lawyer"]),
    "embezzlement": (["贪污", "侵吞公款", "虚报冒领", "套取公款"], ["embezzled public funds", "pocketed subsidies meant for villagers"]),
    "misappropriation": (["挪用公款", "挪用扶贫资金", "挪用执行款"], ["misappropriated public funds for personal use"]),
    "bribe-giving": (["行贿", "为谋取不正当利益给予财物", "请托送礼"], ["paid bribes to win promotion"]),
    "influence-peddling": (["利用影响力受贿", "利用亲属影响力收受财物"], ["traded on a relative's influence"]),
    "abuse-of-power": (["滥用职权", "超越职权", "违规审批"], ["abused his power to approve land transfers"]),
    "dereliction": (["玩忽职守", "严重不负责任", "监管失职"], ["neglected his duty to supervise"]),
    "bending-law": (["徇私枉法", "枉法裁判", "徇情枉法"], ["bent the law to favour a friend"]),
    "unexplained-wealth": (["巨额财产来源不明", "财产明显超过合法收入"], ["could not explain assets far beyond his income"]),
    "business": (["违规经商办企业", "违规从事营利活动", "在企业违规兼职取酬"], ["ran a business on the side"]),
    "lending": (["违规借贷", "违规放贷牟利", "向管理服务对象借款"], ["borrowed money from a contractor he supervised"]),
    "gambling": (["参与赌博", "赌博", "多次打麻将赌博"], ["gambled with businessmen"]),
    "drunk-driving": (["醉酒驾驶", "酒后驾驶", "酒驾"], ["drove after drinking"]),
    "false-reporting": (["不如实报告个人事项", "瞒报个人有关事项"], ["failed to report his personal matters truthfully"]),
    "obstructing-review": (["对抗组织审查", "串供", "伪造证据", "转移赃款赃物"], ["colluded with others to obstruct the review"]),
    "personal-conduct": (["违反生活纪律", "生活作风问题", "生活奢靡"], ["led an extravagant life"]),
}
CRIMINAL = {"bribe-taking", "embezzlement", "misappropriation", "bribe-giving", "influence-peddling", "abuse-of-power",
            "dereliction", "bending-law", "unexplained-wealth"}
HEAVY_SANCTIONS = ["双开", "开除党籍", "开除公职", "移送审查起诉", "判处刑罚", "收缴违纪违法所得", "留党察看", "撤职"]
LIGHT_SANCTIONS = ["党内警告", "党内严重警告", "政务警告", "记过", "记大过", "诫勉", "谈话提醒", "批评教育", "责令检查", "停职检查",
                   "调整职务", "免职", "降职", "降级", "收缴违纪违法所得", "撤销党内职务"]
TAGS = ["节假日", "律师", "购物卡", "中秋节", "春节", "三个规定", "公车", "KTV", "酒驾", "扶贫", "工程项目", "招投标", "执行款",
        "土地", "村干部", "一把手", "司法公正", "亲属", "围猎", "微信红包", "私人会所", "违规吃喝风", "礼品礼金", "案件请托"]
EN_TAGS = ["lawyer", "banquet", "three regulations", "shopping cards", "holidays", "official car", "KTV", "recusal", "bribery", "family"]
SLUGS = ["jianchaguan-shouhui", "fayuan-ganyu-sifa", "gongche-siyong", "weigui-chihe", "gouwuka", "lvshi-yanqing",
         "chaobiaozhun-jiedai", "gongkuan-lvyou", "tanwu", "nuoyong-gongkuan", "xinghui", "lanyong-zhiquan", "wanhu-zhishou",
         "xunsi-wangfa", "dubo", "jiujia", "weigui-jingshang", "xielu-anqing", "lijin", "huisuo-xiaofei", "butie", "zuofeng"]
EN_SLUGS = ["judge-banquet", "clerk-bribes", "prosecutor-gifts", "police-car", "official-travel", "lawyer-contact"]
DEPARTMENTS = ["jiancha", "fayuan", "gongan", "sifa", "jijian", "qiye", "zhengfu"]

SECTION_HEADINGS = {
    "facts": ["基本案情"] * 8 + ["案情", "一、基本案情"],
    "outcome": ["处理结果"] * 6 + ["处理情况", "二、处理结果"],
    "analysis": ["案例评析"] * 4 + ["以案释纪", "以案说纪", "以案释法", "三、案例评析"],
    "lessons": ["警示启示"] * 5 + ["警示", "启示", "四、警示启示"],
    "rules": ["相关条规", "纪律链接", "法规链接"],
    "reform": ["以案促改", "以案促改", "整改措施"],
}
EN_HEADINGS = {"facts": "Facts", "outcome": "Outcome", "analysis": "Analysis", "lessons": "Lessons", "rules": "Rules", "reform": "Reform"}
OTHER_HEADINGS = ["案件背景", "延伸阅读", "办案手记", "群众反映"]

EN_WORDS = (
    "the a of and to in that was for on with as by at from his her this which had not but were been have their they "
    "case court office party officer official public money funds cash contractor lawyer banquet dinner gifts cards "
    "shopping vouchers KTV review investigation discipline inspection commission decision warning demerit dismissal "
    "expulsion prosecution sentence years months project company business village county district province city "
    "hospital school land permit tender bid contract payment account transfer relative friend classmate colleague "
    "leader secretary director deputy chief head staff member members rules regulations integrity conduct duty "
    "power influence interest benefit favour favours private personal family wife son daughter brother cousin "
    "holiday festival spring autumn mooncakes wine tea cigarettes watch phone car vehicle trip travel hotel club "
    "restaurant room bill bills paid pay receipt invoice reimbursement allowance bonus subsidy salary income assets "
    "later again repeatedly several twice three four dozen hundred thousand million yuan total worth value amount "
    "admitted confessed returned recovered confiscated refunded reported recorded disclosed concealed ignored "
    "approved signed handled decided delivered judged appealed upheld reduced avoided warned educated reminded"
).split()
EN_PERSON_TITLES = ["Mr.", "Ms.", "Judge", "Prosecutor", "Officer", "Director", "Section Chief"]

# ---------------------------------------------------------------- the lexicon


def _zipf_cumulative(count: int, exponent: float) -> list[float]:
    return list(accumulate(1.0 / (rank + 1) ** exponent for rank in range(count)))


@lru_cache(maxsize=1)
def lexicon() -> tuple[list[str], list[float]]:
    """Filler words: pseudo-words of common characters, Zipf-weighted."""
    rng = random.Random(LEXICON_SEED)
    chars = COMMON_CHARS[:]
    rng.shuffle(chars)
    char_cum = _zipf_cumulative(len(chars), 0.9)
    words: list[str] = []
    seen: set[str] = set()
    while len(words) < 8000:
        length = rng.choices((1, 2, 3, 4), weights=(15, 55, 22, 8))[0]
        word = "".join(rng.choices(chars, cum_weights=char_cum, k=length))
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words, _zipf_cumulative(len(words), 0.85)


def realistic_phrases() -> list[str]:
    """The realistic phrases the bodies use (queries are drawn from these too)."""
    phrases = {p for zh, _ in ACTS.values() for p in zh}
    phrases.update(GIFTS + RELS + BUSINESS + NOUNS + ANALYSIS_POINTS + REFORMS + MIXED)
    phrases.update(["收受贿赂", "违规吃喝风", "购物卡", "干预司法", "礼品礼金", "公车私用", "超标准接待", "律师宴请", "利用职务上的便利",
                    "为他人谋取利益", "谋取不正当利益", "主动投案", "如实供述", "退缴违纪违法所得", "留置措施", "立案审查调查"])
    return sorted(phrases)


# ---------------------------------------------------------------- vocabulary spellings


@lru_cache(maxsize=1)
def all_spellings() -> list[tuple[str, str]]:
    """(field, spelling) for every accepted way to write every value, so that the first cases cover them all."""
    result = []
    for name, vocab in vocabularies().items():
        for term in vocab.terms:
            result += [(name, term.zh), (name, term.en), (name, term.code), *((name, alias) for alias in term.aliases)]
        result += [(name, spelling) for spelling in vocab.expansions]
    return result


def _spell(rng: random.Random, name: str, code: str) -> str:
    """Write a vocabulary value the way some author might."""
    term = vocabularies()[name].by_code[code]
    roll = rng.random()
    if roll < 0.62:
        return term.zh
    if roll < 0.77 and term.aliases:
        alias = rng.choice(term.aliases)
        return alias.replace('"', "“", 1).replace('"', "”", 1) if '"' in alias and rng.random() < 0.5 else alias
    if roll < 0.86:
        return rng.choice([term.code, term.code.upper(), term.code.replace("-", "_")])
    return rng.choice([term.en, term.en.lower(), term.en.upper()])


# ---------------------------------------------------------------- YAML writing

PLAIN = re.compile(r"""^[^\s,\[\]{}#&*!|>'"%@`:?\-][^,\[\]{}#'"]*$""")
SPECIAL_PLAIN = re.compile(r"^(?:true|false|yes|no|on|off|null|~|y|n)$", re.IGNORECASE)


def yq(value: str) -> str:
    """A YAML scalar for ``value``: plain where safe, else single-quoted."""
    if PLAIN.match(value) and ": " not in value and not value.endswith((":", " ")) and not SPECIAL_PLAIN.match(value):
        return value
    return "'" + value.replace("'", "''") + "'"


def yaml_list(rng: random.Random, key: str, values: list[str]) -> str:
    if rng.random() < 0.2:
        return f"{key}:\n" + "".join(f"  - {yq(v)}\n" for v in values)
    return f"{key}: [{', '.join(yq(v) for v in values)}]\n"


# ---------------------------------------------------------------- numbers, dates, amounts

CN_DIGITS = "零一二三四五六七八九"


def cn_number(n: int) -> str:
    """1..999 in Chinese numerals (for article numbers: 第一百零五条)."""
    hundreds, rest = divmod(n, 100)
    tens, ones = divmod(rest, 10)
    out = ""
    if hundreds:
        out += CN_DIGITS[hundreds] + "百"
        if rest and tens == 0:
            out += "零"
    if tens:
        out += ("" if tens == 1 and not hundreds else CN_DIGITS[tens]) + "十"
    if ones:
        out += CN_DIGITS[ones]
    return out or "零"


def amount_value(rng: random.Random) -> float:
    band = rng.random()
    if band < 0.35:
        return rng.randrange(200, 20000, 100)
    if band < 0.75:
        return rng.randrange(2, 200) * 1000 + rng.choice((0, 0, 500))
    if band < 0.95:
        return rng.randrange(10, 5000) * 10000
    return rng.randrange(1, 60) * 10**8 / 10


def amount_front(rng: random.Random, yuan: float) -> str:
    """An amount in one of the accepted spellings (all equal to ``yuan``)."""
    if yuan >= 10**8 and yuan % 10**7 == 0:
        n = yuan / 10**8
        return rng.choice([f"{n:g}亿元", f"{n:g}亿"])
    if yuan >= 10**4 and yuan % 1000 == 0:
        n = yuan / 10**4
        if n >= 1000 and n == int(n):
            return rng.choice([f'"{int(n):,}万元"', f"{n:g}万", f"{n:g}万元"])
        return rng.choice([f"{n:g}万", f"{n:g}万元", f'"{int(yuan):,}元"', str(int(yuan))])
    return rng.choice([str(int(yuan)), f'"{int(yuan):,}元"', f"{int(yuan)}元", f"人民币{int(yuan)}元", f"¥{int(yuan)}"])


def amount_text(yuan: float) -> str:
    """An amount as it is written in running Chinese text."""
    if yuan >= 10**8:
        return f"{yuan / 10**8:g}亿元"
    if yuan >= 10**4:
        return f"{yuan / 10**4:g}万元"
    return f"{int(yuan)}元"


# ---------------------------------------------------------------- one case


class CaseWriter:
    """Generates case ``index`` of a corpus from its own seeded RNG."""

    def __init__(self, seed: int, index: int, total: int):
        self.seed = seed
        self.index = index
        self.total = total
        self.rng = random.Random(seed * 10_000_019 + index)
        self.words, self.word_cum = lexicon()

    # -- identity (also computed for related cases)

    @staticmethod
    def identity(seed: int, index: int) -> tuple[int, str, str]:
        """(year, language, id) of case ``index``, from its own small RNG."""
        rng = random.Random(seed * 10_000_019 + index + 7_777_777_777)
        year = rng.choice(YEARS)
        lang = "en" if rng.random() < EN_SHARE else "zh"
        slug = rng.choice(EN_SLUGS if lang == "en" else SLUGS)
        return year, lang, f"{year}-{slug}-{index:06d}"

    # -- filler text

    def fill(self, lo: int = 2, hi: int = 6) -> str:
        return "".join(self.rng.choices(self.words, cum_weights=self.word_cum, k=self.rng.randint(lo, hi)))

    def fill_sentence(self) -> str:
        clauses = [self.fill() for _ in range(self.rng.randint(1, 4))]
        sep = self.rng.choice(["，"] * 6 + ["、", "；"])
        return sep.join(clauses) + self.rng.choice(["。"] * 8 + ["！", "？", "……"])

    def person(self) -> str:
        return self.rng.choice(SURNAMES) + self.rng.choice(["某", "某", "某某"])

    def time(self, year: int) -> str:
        y = self.rng.randint(year - 4, year)
        return self.rng.choice([f"{y}年{self.rng.randint(1, 12)}月", f"{y}年", f"{y}年{self.rng.randint(1, 12)}月{self.rng.randint(1, 28)}日",
                                f"{y}年春节前后", f"{y}年中秋节期间", f"{y - 2}年至{y}年间", "同年", "此后"])

    # -- Chinese sections

    def zh_facts(self, ctx: dict) -> str:
        r = self.rng
        p, u, pos, y = ctx["person"], ctx["unit"], ctx["position"], ctx["year"]
        act = r.choice(ctx["acts"])
        templates = [
            lambda: f"{self.time(y)}，{p}在担任{u}{pos}期间，利用职务上的便利，{act}，{self.fill()}。",
            lambda: f"{self.time(y)}至{self.time(y)}，{p}先后{r.randint(2, 30)}次{act}，共计{amount_text(ctx['amount'])}。",
            lambda: f"经查，{p}{act}、{r.choice(ctx['acts'])}，{self.fill()}，{self.fill()}。",
            lambda: f"{p}多次接受{r.choice(RELS)}安排的宴请，地点多在{r.choice(PLACES)}，{self.fill()}。",
            lambda: f"{self.time(y)}，{p}收受{r.choice(RELS)}所送{r.choice(GIFTS)}{r.randint(2, 20)}张，价值{amount_text(amount_value(r))}。",
            lambda: f"为感谢{p}在{r.choice(BUSINESS)}等方面提供的帮助，{r.choice(RELS)}{self.person()}先后送给其{r.choice(GIFTS)}，{self.fill()}。",
            lambda: f"{self.time(y)}，{u}在开展{r.choice(NOUNS)}时发现{p}{act}的问题线索，{self.fill()}。",
            lambda: f"{p}还存在{r.choice(ctx['acts'])}、{r.choice(MIXED)}等问题，{self.fill()}。",
            lambda: f"其间，{p}为{self.person()}在{r.choice(BUSINESS)}中谋取利益，{self.fill()}。",
        ]
        return self.paragraph(templates)

    def zh_outcome(self, ctx: dict) -> str:
        r = self.rng
        p, y = ctx["person"], ctx["year"]
        templates = [
            lambda: f"{self.time(y)}，经{r.choice(ORGS)}研究，决定给予{p}{r.choice(ctx['sanction_words'])}处分。",
            lambda: f"{p}被{r.choice(ORGS)}立案审查调查，并被采取留置措施，{self.fill()}。",
            lambda: f"{self.time(y)}，{p}因犯{r.choice(CRIMES)}被判处有期徒刑{r.randint(1, 12)}年，并处罚金人民币{amount_text(amount_value(r))}。",
            lambda: f"收缴其违纪违法所得{amount_text(ctx['amount'])}，{self.fill()}。",
            lambda: f"对{p}进行诫勉谈话，责令其作出书面检查，{self.fill()}。",
            lambda: f"{p}主动投案，如实供述，退缴违纪违法所得，依规依纪依法从轻处理。",
        ]
        return self.paragraph(templates)

    def zh_analysis(self, ctx: dict) -> str:
        r = self.rng
        p = ctx["person"]
        if r.random() < 0.25:
            return "\n".join(f"- **{r.choice(ANALYSIS_POINTS)}。**{self.fill()}，{self.fill()}。" for _ in range(r.randint(2, 4)))
        templates = [
            lambda: f"{p}的行为违反了{r.choice(LAWS)}第{cn_number(r.randint(1, 150))}条的规定，构成{r.choice(ctx['violation_words'])}。",
            lambda: f"本案中，{p}{r.choice(ANALYSIS_POINTS)}，{self.fill()}，{self.fill()}。",
            lambda: f"从本案看，{r.choice(NOUNS)}{self.fill()}，{r.choice(ANALYSIS_POINTS)}。",
            lambda: f"{p}{r.choice(ctx['acts'])}，表面上是{r.choice(['人情往来', '礼尚往来', '朋友聚会'])}，实质上是{r.choice(['权钱交易', '利益输送', '“围猎”与被“围猎”'])}。",
        ]
        return self.paragraph(templates)

    def zh_lessons(self, ctx: dict) -> str:
        r = self.rng
        templates = [
            lambda: f"{r.choice(NOUNS)}是{r.choice(NOUNS)}的重要内容，{self.fill()}。",
            lambda: f"广大党员干部要以案为鉴、以案促改，{self.fill()}，{self.fill()}。",
            lambda: f"要时刻绷紧{r.choice(NOUNS)}这根弦，{self.fill()}。",
            lambda: f"“{r.choice(PROVERBS)}”，{self.fill()}，{self.fill()}。",
            lambda: f"{ctx['person']}的教训告诉我们，{r.choice(ANALYSIS_POINTS)}，终将{r.choice(['付出沉重代价', '自毁前程', '身陷囹圄'])}。",
        ]
        return self.paragraph(templates)

    def zh_rules(self, ctx: dict) -> str:
        r = self.rng
        lines = []
        for _ in range(r.randint(1, 4)):
            lines.append(f"- {r.choice(LAWS)}第{cn_number(r.randint(1, 400))}条：{self.fill()}，{self.fill()}。")
        return "\n".join(lines)

    def zh_reform(self, ctx: dict) -> str:
        r = self.rng
        templates = [
            lambda: f"案发后，{ctx['unit']}{r.choice(REFORMS)}，{self.fill()}。",
            lambda: f"{ctx['unit']}针对{r.choice(NOUNS)}等问题，制定完善了{r.choice(DOCS)}等{r.randint(2, 12)}项制度。",
            lambda: f"开展{r.choice(NOUNS)}专项整治，{self.fill()}，{self.fill()}。",
        ]
        return self.paragraph(templates)

    def paragraph(self, templates) -> str:
        r = self.rng
        sentences = []
        for _ in range(r.randint(1, 4)):
            sentences.append(r.choice(templates)() if r.random() < 0.6 else self.fill_sentence())
        return "".join(sentences)

    # -- English sections

    def en_words(self, lo: int, hi: int) -> str:
        return " ".join(self.rng.choices(EN_WORDS, k=self.rng.randint(lo, hi)))

    def en_sentence(self, ctx: dict) -> str:
        r = self.rng
        templates = [
            lambda: f"In {r.choice(['March', 'May', 'September', 'the spring of', 'late'])} {ctx['year'] - r.randint(0, 3)}, {ctx['person']}, a {ctx['position']} at {ctx['unit']}, {r.choice(ctx['acts'])}.",
            lambda: f"{ctx['person']} {r.choice(ctx['acts'])} and {self.en_words(3, 10)}.",
            lambda: f"The bills, totalling {int(ctx['amount']):,} yuan, were paid by {r.choice(['a contractor', 'the lawyer', 'a businessman', 'the plaintiff company'])}.",
            lambda: f"{self.en_words(6, 16).capitalize()}.",
            lambda: f"{self.en_words(4, 12).capitalize()}, {self.en_words(4, 12)}.",
        ]
        return r.choice(templates)()

    def en_paragraph(self, ctx: dict) -> str:
        return " ".join(self.en_sentence(ctx) for _ in range(self.rng.randint(1, 4)))

    # -- the file

    def text(self) -> tuple[str, str]:
        """(relative path, file text) of this case."""
        r = self.rng
        year, lang, case_id = self.identity(self.seed, self.index)
        violation_codes = r.sample(list(vocabularies()["violations"].by_code), r.choices((1, 2, 3), weights=(50, 35, 15))[0])
        case = {"year": year, "lang": lang, "criminal": any(c in CRIMINAL for c in violation_codes), "amount": amount_value(r),
                "extra": all_spellings()[self.index] if self.index < len(all_spellings()) else None}
        case.update(self.vocabulary_values(violation_codes, case))
        case.update(self.who(lang, violation_codes))
        ctx = {key: case[key] for key in ("person", "unit", "position", "year", "amount", "acts", "sanction_words")}
        ctx["violation_words"] = [vocabularies()["violations"].by_code[c].zh for c in violation_codes]
        front_text = "---\n" + "".join(self.front_matter(case)) + "---\n"
        target = r.triangular(800, 6000, 1400)
        text = front_text + self.body(lang, ctx, target - len(front_text.encode("utf-8")))
        if r.random() < 0.02:
            text = text.replace("\n", "\r\n")
        if r.random() < 0.01:
            text = "\ufeff" + text
        return f"{self.folder(year, case['dept'])}/{case_id}.md", text

    def vocabulary_values(self, violation_codes: list[str], case: dict) -> dict:
        """The violations, sanctions and disciplines as written, and the sanction words of the text;
        the case's extra spelling (``case["extra"]``) appended to its field."""
        r = self.rng
        vocab = vocabularies()
        extra = case["extra"]

        def with_extra(name: str, values: list[str]) -> list[str]:
            return values + [extra[1]] if extra and extra[0] == name else values

        violations = with_extra("violations", [_spell(r, "violations", c) for c in violation_codes])
        sanction_words = r.sample(HEAVY_SANCTIONS if case["criminal"] else LIGHT_SANCTIONS, r.randint(1, 3))
        sanctions = [w if w == "双开" else _spell(r, "sanctions", vocab["sanctions"].resolve(w)[0].code) for w in sanction_words]
        disciplines = [_spell(r, "disciplines", c) for c in r.sample(list(vocab["disciplines"].by_code), r.randint(0, 2))]
        return {"violations": violations, "sanctions": with_extra("sanctions", sanctions), "sanction_words": sanction_words,
                "disciplines": with_extra("disciplines", disciplines)}

    def who(self, lang: str, violation_codes: list[str]) -> dict:
        """The person, unit, position, title and region of the case."""
        r = self.rng
        by_code = vocabularies()["violations"].by_code
        if lang == "zh":
            unit, positions, dept, personnel_codes = r.choice(UNITS)
            position = r.choice(positions)
            person = self.person()
            acts = [p for c in violation_codes for p in ACTS.get(c, ([by_code[c].zh], []))[0]]
            title = f"{unit}{position}{r.choice(acts)}案"
            if r.random() < 0.1:
                title = f"{unit}{position}{person}{r.choice(acts)}、{r.choice(acts)}案"
            province = r.choice(list(PROVINCES))
            region = province + r.choice(PROVINCES[province]) + (r.choice(COUNTIES) if r.random() < 0.3 else "")
        else:
            unit, positions, personnel = r.choice(EN_UNITS)
            personnel_codes, dept = [personnel], "en"
            position = r.choice(positions)
            person = f"{r.choice(EN_PERSON_TITLES)} {r.choice(EN_SURNAMES)} (a pseudonym)"
            acts = [p for c in violation_codes for p in ACTS.get(c, ([], [by_code[c].en]))[1]]
            title = f"A {position} at {unit} {r.choice(acts)}"
            region = r.choice(EN_REGIONS)
        return {"unit": unit, "position": position, "dept": dept, "personnel_codes": personnel_codes, "person": person,
                "acts": acts, "title": title, "region": region}

    def front_matter(self, case: dict) -> list[str]:
        """The front matter's lines (every field of the contract, some left out at random)."""
        r = self.rng
        year, lang, extra = case["year"], case["lang"], case["extra"]
        front = [f"title: {yq(case['title'])}\n", f"date: {self.date(year)}\n", yaml_list(r, "violations", case["violations"])]
        if r.random() < 0.93 or (extra and extra[0] == "sanctions"):
            front.append(yaml_list(r, "sanctions", case["sanctions"]))
        if case["disciplines"]:
            front.append(yaml_list(r, "disciplines", case["disciplines"]))
        choose = {
            "form": lambda: "fourth" if case["criminal"] else r.choice(["first", "second", "third"]),
            "rank": lambda: r.choice(list(vocabularies()["rank"].by_code)),
            "personnel": lambda: r.choice(case["personnel_codes"]),
        }
        for name, chance in (("form", 0.8), ("rank", 0.8), ("personnel", 0.85)):
            forced = extra and extra[0] == name
            if forced or r.random() < chance:
                front.append(f"{name}: {yq(extra[1] if forced else _spell(r, name, choose[name]()))}\n")
        if r.random() < 0.9:
            front.append(f"region: {yq(case['region'])}\n")
        front.append(f"unit: {yq(case['unit'])}\n")
        front.append(f"position: {yq(case['position'])}\n")
        if r.random() < 0.7:
            front.append(f"amount: {amount_front(r, case['amount'])}\n")
        if r.random() < 0.6:
            a = r.randint(year - 6, year)
            front.append(f"period: {r.choice([f'{a}-{year}', f'{a}-{r.randint(1, 12):02d}', f'{a}年至{year}年'])}\n")
        if r.random() < 0.8:
            front.append(f"source: {'虚构综合案例，仅供警示教育使用' if lang == 'zh' else 'Fictional composite case for warning education'}\n")
        if r.random() < 0.75:
            front.append(yaml_list(r, "tags", r.sample(TAGS if lang == "zh" else EN_TAGS, r.randint(1, 4))))
        if self.total > 1 and r.random() < 0.3:
            others = {r.randrange(self.total) for _ in range(r.randint(1, 3))} - {self.index}
            if others:
                front.append(yaml_list(r, "related", [self.identity(self.seed, j)[2] for j in sorted(others)]))
        if r.random() < 0.3:
            front.append(f"lang: {lang}\n")
        return front

    def folder(self, year: int, dept: str) -> str:
        """The year's folder; about one case in eight a level or two deeper."""
        roll = self.rng.random()
        if roll < 0.03:
            return f"{year}/{dept}/q{self.rng.randint(1, 4)}"
        if roll < 0.13:
            return f"{year}/{dept}"
        return str(year)

    def date(self, year: int) -> str:
        r = self.rng
        roll = r.random()
        if roll < 0.8:
            return f"{year}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}"
        if roll < 0.92:
            return f"{year}-{r.randint(1, 12):02d}"
        return str(year)

    def body(self, lang: str, ctx: dict, budget: float) -> str:
        r = self.rng
        sections = ["facts", "outcome", "analysis", "lessons"]
        if r.random() < 0.4:
            sections.append("rules")
        if r.random() < 0.5:
            sections.append("reform")
        if lang == "zh":
            makers = {"facts": self.zh_facts, "outcome": self.zh_outcome, "analysis": self.zh_analysis,
                      "lessons": self.zh_lessons, "rules": self.zh_rules, "reform": self.zh_reform}
        else:
            makers = {name: self.en_paragraph for name in sections}
        content: dict[str, list[str]] = {name: [makers[name](ctx)] for name in sections}
        size = sum(len(p.encode("utf-8")) for ps in content.values() for p in ps)
        growable = [s for s in sections if s not in ("outcome", "rules")]
        while size < budget:
            name = r.choice(growable)
            paragraph = makers[name](ctx)
            content[name].append(paragraph)
            size += len(paragraph.encode("utf-8")) + 2
        parts = []
        if lang == "zh":
            parts.append("> 本案例为虚构的综合性案例，仅供警示教育使用，人物、单位均为化名。\n")
        else:
            parts.append("> This is a fictional composite case for warning education; all names and units are invented.\n")
        other_at = r.randrange(len(sections) + 1) if r.random() < 0.15 else -1
        for position, name in enumerate(sections):
            if position == other_at:
                parts.append(f"## {r.choice(OTHER_HEADINGS)}\n\n{self.fill_sentence() if lang == 'zh' else self.en_paragraph(ctx)}\n")
            heading = r.choice(SECTION_HEADINGS[name]) if lang == "zh" else EN_HEADINGS[name]
            parts.append(f"## {heading}\n\n" + "\n\n".join(content[name]) + "\n")
        return "\n".join(parts)


# ---------------------------------------------------------------- the corpus


def _write_range(seed: int, total: int, out_dir: Path, chunk: range) -> tuple[int, int]:
    """Write the cases of ``chunk``; (bytes written, Chinese cases)."""
    folders: set[Path] = set()
    size = zh = 0
    for index in chunk:
        relative, text = CaseWriter(seed, index, total).text()
        path = out_dir / relative
        if path.parent not in folders:
            path.parent.mkdir(parents=True, exist_ok=True)
            folders.add(path.parent)
        data = text.encode("utf-8")
        path.write_bytes(data)
        size += len(data)
        zh += CaseWriter.identity(seed, index)[1] == "zh"
    return size, zh


def generate(count: int, out_dir: Path, seed: int = 1, jobs: int = 1) -> dict:
    """Write ``count`` cases under ``out_dir`` (in chunks of 2,000 on ``jobs`` processes); a summary."""
    started = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    lexicon()
    chunks = [range(start, min(start + 2000, count)) for start in range(0, count, 2000)]
    write = partial(_write_range, seed, count, out_dir)
    if jobs > 1 and len(chunks) > 1:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            results = list(pool.map(write, chunks))
    else:
        results = list(map(write, chunks))
    size, zh = sum(r[0] for r in results), sum(r[1] for r in results)
    return {"cases": count, "bytes": size, "mean_kb": size / count / 1000, "zh_share": zh / count,
            "seconds": time.perf_counter() - started, "seed": seed, "out": str(out_dir)}


def describe(s: dict) -> str:
    """One line about a ``generate`` summary."""
    return (
        f"generated {s['cases']} cases ({s['bytes'] / 1e6:.1f} MB, mean {s['mean_kb']:.2f} KB, "
        f"{s['zh_share']:.1%} Chinese) with seed {s['seed']} in {s['seconds']:.1f} s -> {s['out']}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.generate", description="Write N generated, contract-valid case files.")
    parser.add_argument("count", type=int, metavar="N", help="how many cases")
    parser.add_argument("out", type=Path, metavar="OUT_DIR", help="folder to write (must be empty or absent)")
    parser.add_argument("--seed", type=int, default=1, help="corpus seed (default 1): same seed, same files")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1), help="worker processes (default 2)")
    args = parser.parse_args(argv)
    if args.count < 1:
        parser.error("N must be at least 1")
    if args.out.exists() and any(args.out.iterdir()):
        parser.error(f"{args.out} is not empty")
    print(describe(generate(args.count, args.out, seed=args.seed, jobs=args.jobs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
