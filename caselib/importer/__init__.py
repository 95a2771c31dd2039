"""Getting cases in: ``build.py import`` turns notices into case files,
``build.py new`` starts a case file from its title.

The steps, one module each:

- ``reading``: a notice file (plain text in UTF-8, GBK/GB18030 or UTF-16,
  or a Word .docx) to its paragraphs;
- ``notice``: the paragraphs to the notice's title and date and its cases
  (one per numbered item of a typical-case notice, or one for a notice
  about one person), each with its heading, facts, outcome and commentary;
- ``extract``: a case's fields found in its text through the vocabularies
  and a few standard phrases, and what could not be found;
- ``caseid``: ids from the year and the pinyin of the title's key words;
- ``casefile``: the case file's text, checked with the project's own parser
  before it is written, never over another file;
- ``template``: a new case file from the authors' template;
- ``commands``: the two commands' arguments, report and exit codes.
"""
