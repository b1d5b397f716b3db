"""Lists of people as departments keep them: spreadsheets with Chinese column headers.

``sheets.columns`` names every column of every kind of list (the one home of the headers),
``sheets.cells`` reads a row of cells into a row of the wire models and back, ``sheets.xlsx``
reads and writes ``.xlsx`` files, ``sheets.problems`` says what is wrong in Chinese. The
console, the command line and the template download all use them; they use no front end.
"""
