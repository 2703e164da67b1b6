"""PyInstaller entry script: the same entry point as the ``segstudio`` console script."""

import multiprocessing
import sys

from segstudio.launcher import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # a frozen app re-executes itself for worker processes
    if sys.argv[1:2] == ["--segstudio-child-job"]:  # training/prediction child (services.subprocess_jobs)
        from segstudio.services.subprocess_jobs import child_main

        sys.exit(child_main())
    sys.exit(main())
