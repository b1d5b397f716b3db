"""What is wrong with something typed in, said in Chinese: one pydantic error as a sentence
for the person who typed it, and the problems of a list, each naming its row and column
(“第 3 行「出生日期」：日期应为 YYYY-MM-DD”)."""

from __future__ import annotations

from workflows.field_errors import predicate

# One pydantic error as a clerk reads it, without the field's name (the column names it):
# the wording of every front end (``workflows.field_errors``).
error_text = predicate


# what every door says first of a file refused: nothing of it was taken
NOT_IMPORTED = "文件未导入，请改正以下各处后重新导入："


def at_row(row: int, header: str, message: str) -> str:
    """A problem of one cell (or of the whole row, without a header)."""
    return f"第 {row} 行「{header}」：{message}" if header else f"第 {row} 行：{message}"


class SheetProblems(ValueError):
    """A list that cannot be taken as it is: every problem found, each naming its place.
    Nothing of the list is used when there is one."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems

    def told(self) -> list[str]:
        """The problems as a door tells them of a file: first that nothing was imported."""
        return [NOT_IMPORTED, *self.problems]
