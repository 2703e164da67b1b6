"""PyInstaller entry script: the same entry point as the ``segstudio`` console script."""

import multiprocessing
import sys

from segstudio.launcher import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # a frozen app re-executes itself for worker processes
    sys.exit(main())
