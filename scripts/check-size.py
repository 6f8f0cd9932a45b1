#!/usr/bin/env python3
"""Checks the house limits on Swift sources: no file over 400 lines, no function over 80.

Usage: scripts/check-size.py [DIR…] (default: Sources Tests). Prints one line per file or function
over its limit and exits 1 if there is any. A function (func, init, deinit, subscript) is counted
from its declaration's first line to its closing brace. It reads the text, not the syntax tree:
string literals are emptied and `//` comments cut before the braces are counted.
"""
import pathlib
import re
import sys

FILE_LIMIT = 400
FUNCTION_LIMIT = 80
MODIFIERS = (r"(?:(?:public|private|fileprivate|internal|open|static|class|final|override|mutating|"
             r"nonmutating|convenience|required|nonisolated|dynamic)(?:\(set\))?\s+)*")
DECLARATION = re.compile(r"^\s*(?:@[\w.]+(?:\([^)]*\))?\s+)*" + MODIFIERS
                         + r"(?:func\s|init[?!]?\s*[(<]|deinit\b|subscript\s*[(<])")
STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def code_lines(lines):
    """The lines with string literals emptied and comments cut; multi-line literals blanked."""
    out, in_literal = [], False
    for line in lines:
        if in_literal:
            if line.strip().startswith('"""'):
                in_literal, line = False, line[line.index('"""') + 3:]
            else:
                out.append("")
                continue
        opens = re.search(r'"""#*\s*$', line) is not None
        if opens:
            line = line[:line.rindex('"""')]
        out.append(STRING.sub('""', line).split("//")[0])
        in_literal = opens
    return out


def function_lengths(lines):
    """(first line, length) of every function with a body."""
    code = code_lines(lines)
    for first, line in enumerate(code):
        if not DECLARATION.match(line):
            continue
        depth, opened = 0, False
        for last in range(first, len(code)):
            if not opened and last > first and DECLARATION.match(code[last]):
                break  # a requirement without a body (protocol): the next declaration begins
            for ch in code[last]:
                depth += (ch == "{") - (ch == "}")
                opened = opened or ch == "{"
            if opened and depth <= 0:
                yield first + 1, last - first + 1
                break


def main(roots):
    problems = []
    for root in roots:
        for path in sorted(pathlib.Path(root).rglob("*.swift")):
            lines = path.read_text(encoding="utf-8").split("\n")
            count = len(lines) - (lines[-1] == "")
            if count > FILE_LIMIT:
                problems.append(f"{path}: {count} lines (limit {FILE_LIMIT})")
            for first, length in function_lengths(lines):
                if length > FUNCTION_LIMIT:
                    problems.append(f"{path}:{first}: function of {length} lines (limit {FUNCTION_LIMIT})")
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["Sources", "Tests"]))
