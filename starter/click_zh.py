"""click's own words in Chinese: the help page's headings and its help option, and the
refusal of a malformed command line (a missing option, an unknown command).

Every command and group of the command line is of these classes (``ZhGroup`` makes its
commands ``ZhCommand`` and its groups ``ZhGroup``), so ``--help`` and a usage error read in
Chinese from the root to the last subcommand. What a parameter's value must look like is
said by the parameter's own type or the command (in Chinese); click's placeholders in the
usage line (``[OPTIONS]``, ``COMMAND``) stay as the syntax they are.
"""

from __future__ import annotations

from typing import IO, Any

import click

HEADINGS = {
    "Options": "选项",
    "Commands": "命令",
    "Arguments": "参数",
    "Positional arguments": "参数",
}
HELP_OPTION_TEXT = "显示本帮助并退出。"


class ZhHelpFormatter(click.HelpFormatter):
    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, "用法：" if prefix is None else prefix)

    def write_heading(self, heading: str) -> None:
        self.write(f"{'':>{self.current_indent}}{HEADINGS.get(heading, heading)}：\n")


class ZhContext(click.Context):
    formatter_class = ZhHelpFormatter


def help_record(param: click.Parameter, ctx: click.Context) -> tuple[str, str] | None:
    """An option's line on the help page, its bracket (default, range, required, setting)
    in Chinese; click's own says "default:" and "required"."""
    if not isinstance(param, click.Option):
        return param.get_help_record(ctx)
    if param.hidden:
        return None
    extra = param.get_help_extra(ctx)
    items = []
    if "envvars" in extra:
        items.append(f"环境变量：{', '.join(extra['envvars'])}")
    if "default" in extra:
        shown = "（动态）" if extra["default"] == "(dynamic)" else extra["default"]
        items.append(f"默认：{shown}")
    if "range" in extra:
        items.append(extra["range"])  # 1<=x<=10000: symbols, no words
    if "required" in extra:
        items.append("必填")
    help_text = param.help or ""
    if items:
        bracket = f"[{'；'.join(items)}]"
        help_text = f"{help_text}  {bracket}" if help_text else bracket
    return param.get_help_spec(ctx), help_text


class ZhCommand(click.Command):
    context_class = ZhContext

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        option = super().get_help_option(ctx)
        if option is not None:
            option.help = HELP_OPTION_TEXT
        return option

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        records = [r for p in self.get_params(ctx) if (r := help_record(p, ctx)) is not None]
        if records:
            with formatter.section("Options"):
                formatter.write_dl(records)


class ZhGroup(ZhCommand, click.Group):
    command_class = ZhCommand
    group_class = type  # a group's groups are of its own class

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        ZhCommand.format_options(self, ctx, formatter)
        self.format_commands(ctx, formatter)


def usage_problem(exc: click.UsageError) -> str:
    """What is wrong with the command line, in Chinese."""
    if isinstance(exc, click.NoSuchOption):
        known = f"（可用：{'、'.join(sorted(exc.possibilities))}）" if exc.possibilities else ""
        return f"没有选项 {exc.option_name}{known}"
    if isinstance(exc, click.MissingParameter):
        hint = exc.param.get_error_hint(exc.ctx) if exc.param and exc.ctx else ""
        kind = "参数" if isinstance(exc.param, click.Argument) else "选项"
        return f"缺少{kind} {hint}".rstrip()
    if isinstance(exc, click.BadParameter):
        hint = exc.param.get_error_hint(exc.ctx) if exc.param and exc.ctx else ""
        said = exc.message if not exc.message.isascii() else _expected(exc.param)
        return f"{hint} 的值不对：{said}" if hint else f"值不对：{said}"
    if exc.message.startswith("No such command"):
        name = exc.message.removeprefix("No such command").strip(" .'\"")
        return f"没有命令 {name}"
    if exc.message == "Missing command.":
        return "缺少命令"
    return exc.message


def _expected(param: click.Parameter | None) -> str:
    """What a value of ``param`` must be, for click's own (English) conversion errors."""
    kind = param.type if param is not None else None
    if isinstance(kind, click.Choice):
        return f"只能是以下之一：{'、'.join(str(c) for c in kind.choices)}"
    if isinstance(kind, click.types.IntParamType):
        return "应为整数"
    if isinstance(kind, click.types.FloatParamType):
        return "应为数字"
    if isinstance(kind, click.Path | click.File):
        return "文件不存在或无法读取"
    if isinstance(kind, click.DateTime):
        return "日期格式不对，应为 YYYY-MM-DD"
    return "格式不对"


def show_usage_problem(exc: click.UsageError, file: IO[Any] | None = None) -> None:
    """The usage line, where to find help, and the problem, as ``UsageError.show`` would say
    them in English."""
    ctx = exc.ctx
    if ctx is not None:
        click.echo(ctx.get_usage(), err=file is None, file=file)
        click.echo(f"请运行「{ctx.command_path} --help」查看用法。", err=file is None, file=file)
    click.echo(f"错误：{usage_problem(exc)}", err=file is None, file=file)
