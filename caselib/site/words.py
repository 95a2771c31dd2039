"""The site's words for what Datasette says in English: page titles of its
errors, its error messages, its filter names, the breadcrumbs, table and
column names, and canned-query parameters."""

from __future__ import annotations

import re
from functools import lru_cache

from .. import schema
from . import DATABASE_NAME, load_metadata

ERROR_TITLES = {400: "请求有误", 403: "无权访问", 404: "页面不存在", 405: "不支持此操作", 500: "服务器出错"}
# Datasette's messages (English) and what a reader is told instead.
ERROR_MESSAGES = (
    (re.compile(r"^Database not found"), "没有这个数据库。"),
    (re.compile(r"^Table not found"), "没有这个数据表。"),
    (re.compile(r"^Record not found"), "没有这个案例或记录：它可能已被删除，或地址有误。"),
    (re.compile(r"^Row not found"), "没有这条记录：它可能已被删除，或地址有误。"),
    (re.compile(r"^Query not found"), "没有这个查询。"),
    (re.compile(r"SQL query took too long|interrupted", re.IGNORECASE), "查询时间超过限制，已停止。请缩小范围后再试。"),
    (re.compile(r"^Cannot sort table by"), "不能按这一列排序。"),
    (re.compile(r"_size must be|Page size must be"), "每页条数须为正整数。"),
    (re.compile(r"^Invalid SQL|syntax error", re.IGNORECASE), "SQL 语句有误。"),
    (re.compile(r"Statement must be a SELECT"), "只能执行 SELECT 查询。"),
    (re.compile(r"Permission denied|Forbidden", re.IGNORECASE), "您没有权限查看这一页。"),
    (re.compile(r"^Invalid username or password"), "用户名或密码不正确。"),
    (re.compile(r"does not have any configured accounts"), "本站还没有设置工作人员账户，请联系管理员。"),
)
LOOKUP_NAMES = {
    "exact": "等于",
    "not": "不等于",
    "contains": "包含",
    "endswith": "结尾是",
    "startswith": "开头是",
    "gt": "大于",
    "gte": "大于等于",
    "lt": "小于",
    "lte": "小于等于",
    "like": "匹配（like）",
    "notlike": "不匹配（like）",
    "glob": "匹配（glob）",
    "arraycontains": "列表包含",
    "arraynotcontains": "列表不含",
    "date": "日期为",
    "isnull": "为空",
    "notnull": "不为空",
    "isblank": "为空白",
    "notblank": "不为空白",
    "in": "属于",
    "notin": "不属于",
}
PARAMETERS = {"q": "检索词", "violation": "违规类型", "pack": "专题编号", "limit": "最多条数", "offset": "跳过条数"}
RENDERERS = {"json": "JSON", "xlsx": "Excel 表格", "csvx": "CSV（Excel 可直接打开）", "docx": "Word 案例汇编"}


def error_title(status: int | None) -> str:
    return ERROR_TITLES.get(status or 500, "出错了")


def error_message(message: object) -> str:
    """Datasette's message in Chinese; one it does not know is shown as it is, after a Chinese note."""
    text = str(message or "")
    for pattern, chinese in ERROR_MESSAGES:
        if pattern.search(text):
            return chinese
    if not text or re.search(r"[\u4e00-\u9fff]", text):
        return text
    return f"请求无法完成（{text}）"


def lookup_name(key: str) -> str:
    return LOOKUP_NAMES.get(key, key)


def renderer_name(extension: str) -> str:
    return RENDERERS.get(extension, extension)


def parameter_name(name: str) -> str:
    return PARAMETERS.get(name, name)


def column_label(column: str) -> str:
    """A ``cases`` column's Chinese label (others as they are)."""
    found = schema.BY_NAME.get(column)
    return found.label if found else column


@lru_cache(maxsize=1)
def _table_titles() -> dict[str, str]:
    tables = load_metadata().get("databases", {}).get(DATABASE_NAME, {}).get("tables", {})
    return {name: spec.get("title", name) for name, spec in tables.items()}


def table_title(database: str | None, table: str | None) -> str:
    if database != DATABASE_NAME or not table:
        return table or ""
    return _table_titles().get(table, table)


def crumb_trail(database: str | None = None, table: str | None = None) -> list[tuple[str, str]]:
    """Breadcrumbs above a page: the case list for cases, the data tables for the rest."""
    if not database:
        return []
    if table == "cases":
        return [("首页", "/"), ("案例列表", f"/{DATABASE_NAME}/cases")]
    trail = [("首页", "/"), ("数据表", f"/{database}")]
    if table:
        trail.append((table_title(database, table), f"/{database}/{table}"))
    return trail
