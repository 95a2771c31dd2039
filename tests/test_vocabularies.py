"""The vocabularies: one source, and everything else agrees with it."""

import sqlite3

import pytest

from caselib.site import load_metadata
from caselib.vocab import AmbiguousTerm, UnknownTerm, column_descriptions, vocabularies, vocabulary


@pytest.mark.parametrize(
    "name,raw,expected",
    [
        ("violations", "受贿", ["bribe-taking"]),
        ("violations", "收受贿赂", ["bribe-taking"]),
        ("violations", "受贿罪", ["bribe-taking"]),
        ("violations", "Bribe-taking", ["bribe-taking"]),
        ("violations", "BRIBE-TAKING", ["bribe-taking"]),
        ("violations", "违规收送名贵特产和礼品礼金", ["gifts"]),
        ("violations", "收受礼品礼金", ["gifts"]),
        ("violations", "违规公款吃喝", ["dining"]),
        ("violations", "违规接受宴请", ["dining"]),
        ("violations", "贪污罪", ["embezzlement"]),
        ("violations", "挪用公款罪", ["misappropriation"]),
        ("violations", "行贿罪", ["bribe-giving"]),
        ("violations", "滥用职权罪", ["abuse-of-power"]),
        ("violations", "玩忽职守罪", ["dereliction"]),
        ("violations", "徇私枉法罪", ["bending-law"]),
        ("violations", '违反"三个规定"的过问干预', ["interference"]),
        ("violations", "违反“三个规定”的过问干预", ["interference"]),
        ("violations", "醉酒驾驶", ["drunk-driving"]),
        ("violations", "酒驾", ["drunk-driving"]),
        ("sanctions", "严重警告", ["party-serious-warning"]),
        ("sanctions", "开除", ["expulsion"]),
        ("sanctions", "移送检察机关依法审查起诉", ["prosecution"]),
        ("sanctions", "双开", ["party-expulsion", "expulsion"]),
        ("sanctions", "Party warning", ["party-warning"]),
        ("form", "1", ["first"]),
        ("form", "第四种形态", ["fourth"]),
        ("form", "Fourth", ["fourth"]),
        ("rank", "地厅级", ["bureau"]),
        ("rank", "副处级", ["county"]),
        ("rank", "正科级", ["township"]),
        ("rank", "科员", ["staff"]),
        ("personnel", "judge", ["judge"]),
        ("disciplines", "personal-life", ["personal-life"]),
    ],
)
def test_resolve(name, raw, expected):
    assert expected == [t.code for t in vocabulary(name).resolve(raw)]


def test_bare_warning_is_ambiguous():
    with pytest.raises(AmbiguousTerm) as info:
        vocabulary("sanctions").resolve("警告")
    assert '"警告" is ambiguous — write "党内警告" or "政务警告"' == str(info.value)


def test_unknown_value_suggests_closest_label():
    with pytest.raises(UnknownTerm) as info:
        vocabulary("violations").resolve("违规吃喝喝")
    assert 'unknown value "违规吃喝喝" — did you mean "违规吃喝"?' == str(info.value)


def test_every_spelling_names_one_term_only():
    for vocab in vocabularies().values():
        seen = {}
        for term in vocab.terms:
            for spelling in (term.code, term.zh, term.en, *term.aliases):
                key = spelling.casefold()
                assert seen.setdefault(key, term.code) == term.code, f"{vocab.name}: {spelling}"


def test_contract_sizes():
    sizes = {name: len(v.terms) for name, v in vocabularies().items()}
    assert {"violations": 33, "sanctions": 24, "disciplines": 6, "form": 4, "rank": 5, "personnel": 9, "province": 34, "visibility": 2} == sizes


def test_metadata_column_descriptions_come_from_the_vocabularies():
    columns = load_metadata()["databases"]["cases"]["tables"]["cases"]["columns"]
    described = {name: columns[name] for name in column_descriptions()}
    assert column_descriptions() == described


def test_lookup_tables_hold_the_vocabularies(shipped_db):
    conn = sqlite3.connect(shipped_db)
    for vocab in vocabularies().values():
        rows = conn.execute(f'select code, zh, en, "group" from {vocab.table} order by sort').fetchall()
        assert [(t.code, t.zh, t.en, t.group) for t in vocab.terms] == rows


def test_metadata_describes_every_lookup_table():
    tables = load_metadata()["databases"]["cases"]["tables"]
    for vocab in vocabularies().values():
        assert tables[vocab.table]["label_column"] == "zh"


@pytest.mark.parametrize(
    "region,province",
    [
        ("安徽", "安徽省"), ("安徽省", "安徽省"), ("安徽省合肥市", "安徽省"), ("Anhui", "安徽省"), ("Anhui Province", "安徽省"),
        ("anhui province, Hefei", "安徽省"), ("北京市海淀区", "北京市"), ("广西壮族自治区南宁市", "广西壮族自治区"), ("广西", "广西壮族自治区"),
        ("香港", "香港特别行政区"), ("Hong Kong", "香港特别行政区"), ("Shanxi", "山西省"), ("Shaanxi", "陕西省"), ("山西省太原市", "山西省"),
        ("陕西省西安市", "陕西省"), ("内蒙古呼和浩特市", "内蒙古自治区"), ("吉林市", "吉林省"), ("ＡＮＨＵＩ", "安徽省"),
        ("某省某县", None), ("西安市", None), ("Shanxian", None), ("", None),
    ],
)
def test_province_at_the_start_of_a_region(region, province):
    term = vocabulary("province").at_start(region)
    assert province == (term.zh if term else None)


def test_the_shipped_library_facets_provinces_not_spellings(shipped_site):
    data = shipped_site.json("/cases/cases.json?_facet_size=max")
    values = {v["value"]: v["count"] for v in data["facet_results"]["province"]["results"]}
    assert all(value.endswith(("省", "市", "自治区", "特别行政区")) for value in values)
    assert 4 == values["安徽省"]
