#!/usr/bin/env python3
"""Build the warning-education case library: ``python build.py --help``."""

import sys

from caselib.cli import main

if __name__ == "__main__":
    sys.exit(main())
