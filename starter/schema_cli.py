"""``appointments schema`` and ``appointments template``: the published formats of the files
the command line reads.

``schema`` lists the kinds of file, and prints the JSON Schema of one (made by pydantic from
the input models, with the Chinese names of the fields and of the values of each choice):
a case file, a meeting, a notice, the file of each step, and the rows of the lists people
keep as spreadsheets. ``template`` writes the empty ``.xlsx`` of such a list, with its
Chinese headers (``sheets``). Every command that reads a file names its kind in its help.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import click
from pydantic import BaseModel, TypeAdapter

from starter.cli_base import InputError
from starter.click_zh import ZhCommand
from starter.inputs import MeetingFile, NoticeFile
from workflows.cadre_rows import OwnTallyRow, UnifiedTallyRow
from workflows.capability_types import CapabilityResult
from workflows.glossary import BY_ENUM, field_label, step_title
from workflows.probation_types import ProbationInput
from workflows.steps import CASE_STEPS
from workflows.types import Applicant, CaseInput, Score, service_filled

JSON_SCHEMA = "https://json-schema.org/draft/2020-12/schema"
# the columns of ``appointments probation import`` (its reader checks them)
PROBATION_IMPORT_FIELDS = (
    "case_id",
    "person_id",
    "name",
    "unit",
    "post",
    "starts_on",
    "former_rank",
    "former_post",
)


@dataclass(frozen=True)
class FileKind:
    """One kind of file the command line reads: what it is, which commands read it, and
    the schema of its content."""

    title: str
    read_by: str
    schema: Callable[[], dict[str, Any]]


def _model_schema(model: type[BaseModel], without: tuple[str, ...] = ()) -> dict[str, Any]:
    """``model``'s schema with Chinese titles, less the fields the file must not hold."""
    schema = TypeAdapter(model).json_schema()
    for name in without:
        schema.get("properties", {}).pop(name, None)
        if name in schema.get("required", []):
            schema["required"].remove(name)
    return schema


def _rows_schema(row: type[BaseModel]) -> dict[str, Any]:
    return TypeAdapter(list[row]).json_schema()  # type: ignore[valid-type]


def _only(model: type[BaseModel], keep: tuple[str, ...]) -> dict[str, Any]:
    return _model_schema(model, tuple(f for f in model.model_fields if f not in keep))


_ENUMS = {kind.__name__: names for kind, names in BY_ENUM.items()}


def _in_chinese(schema: dict[str, Any]) -> dict[str, Any]:
    """Every field titled by its Chinese label (the headers of a list's columns where it has
    them), every choice described with the Chinese names of its values."""
    from sheets.columns import SHEETS

    headers: dict[str, dict[str, tuple[str, str]]] = {}
    for sheet in SHEETS.values():
        for column in sheet.columns:
            own = column.field.split(".")
            model = sheet.row.__name__ if len(own) == 1 else None
            if model is not None:
                aliases = "也可用的列名：" + "、".join(column.aliases) if column.aliases else ""
                note = "；".join(x for x in (column.note, aliases) if x)
                headers.setdefault(model, {})[own[0]] = (column.header, note)

    def walk(node: dict[str, Any], name: str) -> None:
        if name in _ENUMS and "enum" in node:
            node["description"] = "；".join(f"{k.value}：{v}" for k, v in _ENUMS[name].items())
        for prop, sub in node.get("properties", {}).items():
            header, note = headers.get(name, {}).get(prop, (field_label(prop), ""))
            sub["title"] = header
            if note:
                sub["description"] = note

    walk(schema, str(schema.get("title", "")))
    for name, node in schema.get("$defs", {}).items():
        walk(node, name)
    return schema


def _kinds() -> Mapping[str, FileKind]:
    kinds: dict[str, FileKind] = {
        "new-case": FileKind(
            "案件材料（YAML 或 JSON；不含 opened_by，立案人为令牌对应的账户）",
            "appointments case start",
            lambda: _model_schema(CaseInput, ("opened_by",)),
        ),
        "meeting": FileKind(
            "常委会会议及其各案件的表决事项（YAML 或 JSON）",
            "appointments vote record",
            lambda: _model_schema(MeetingFile),
        ),
        "notice": FileKind(
            "任前公示（YAML 或 JSON）",
            "appointments notice publish",
            lambda: _model_schema(NoticeFile),
        ),
        "applicants": FileKind(
            "报名人员名册（.xlsx 中文列名，或 CSV）：每行一人",
            "appointments exam register",
            lambda: _rows_schema(Applicant),
        ),
        "scores": FileKind(
            "成绩表（.xlsx 中文列名，或 CSV）：每行一人",
            "appointments exam written / exam interview",
            lambda: _rows_schema(Score),
        ),
        "capability-results": FileKind(
            "能力测试成绩表（.xlsx 中文列名，或 CSV）：每行一人",
            "appointments capability start",
            lambda: _rows_schema(CapabilityResult),
        ),
        "evaluation-unified": FileKind(
            "双重考核·统一民主测评表（.xlsx 中文列名，或 CSV）：每行一名党政正职",
            "appointments evaluation start",
            lambda: _rows_schema(UnifiedTallyRow),
        ),
        "evaluation-own": FileKind(
            "双重考核·本单位民主测评表（.xlsx 中文列名，或 CSV）：每行一名党政正职",
            "appointments evaluation start",
            lambda: _rows_schema(OwnTallyRow),
        ),
        "probation-import": FileKind(
            "部署前已在试用期的干部（CSV）：每行一人",
            "appointments probation import",
            lambda: {
                "type": "array",
                "items": _only(ProbationInput, PROBATION_IMPORT_FIELDS),
            },
        ),
    }
    for update, row in CASE_STEPS.items():
        kinds[f"step.{update}"] = FileKind(
            f"{step_title(update)}（YAML 或 JSON；不含 actor）",
            f"appointments step {update}",
            lambda model=row.input: _model_schema(  # type: ignore[misc]
                model, ("actor", *sorted(service_filled(model)))
            ),
        )
    return MappingProxyType(kinds)


FILE_KINDS = _kinds()


def schema_of(kind: str) -> dict[str, Any]:
    """The published JSON Schema of ``kind``."""
    found = FILE_KINDS[kind]
    schema = _in_chinese(found.schema())
    schema.setdefault("title", kind)
    schema["description"] = f"{found.title}。由 {found.read_by} 读取。"
    return {"$schema": JSON_SCHEMA, **schema}


def kind_help(kind: str) -> str:
    """The sentence a command's help gives about the file it reads."""
    assert kind in FILE_KINDS, kind
    return f"文件格式：appointments schema {kind}"


@click.command("schema", cls=ZhCommand)
@click.argument("kind", required=False, metavar="[KIND]")
def schema(kind: str | None) -> None:
    """列出命令行读取的文件种类；给出 KIND 时打印其 JSON Schema。"""
    import json

    if kind is None:
        width = max(len(k) for k in FILE_KINDS)
        for name, found in FILE_KINDS.items():
            click.echo(f"{name:<{width}}  {found.title}  ← {found.read_by}")
        return
    if kind not in FILE_KINDS:
        raise InputError(f"没有文件种类 {kind}；可用的种类：{'、'.join(FILE_KINDS)}")
    click.echo(json.dumps(schema_of(kind), ensure_ascii=False, indent=2))


@click.command("template", cls=ZhCommand)
@click.argument("kind", required=False, metavar="[KIND]")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="写入此文件（不给则写到标准输出，须重定向到文件）",
)
def template(kind: str | None, output: Path | None) -> None:
    """列出可导入的名册；给出 KIND 时输出其空白 Excel 模板（.xlsx，中文列名）。"""
    from sheets.columns import SHEETS
    from sheets.xlsx import template_xlsx

    if kind is None:
        for name, each in SHEETS.items():
            click.echo(f"{name:<12}  {each.title}")
        return
    sheet = SHEETS.get(kind)
    if sheet is None:
        raise InputError(f"没有名册 {kind}；可用的名册：{'、'.join(SHEETS)}")
    data = template_xlsx(sheet)
    if output is not None:
        output.write_bytes(data)
        click.echo(f"已写入 {output}", err=True)
        return
    if sys.stdout.isatty():
        raise InputError("模板是 Excel 文件：请重定向到文件（> 文件.xlsx）或用 -o 文件.xlsx")
    sys.stdout.flush()
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()
