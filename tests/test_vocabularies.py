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
    assert {"violations": 33, "sanctions": 24, "disciplines": 6, "form": 4, "rank": 5, "personnel": 9} == sizes


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
