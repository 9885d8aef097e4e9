"""The frozen build's entry point: the same command line as the `wardwatch` script."""

import multiprocessing
import sys

from wardwatch.app.cli import main

if __name__ == "__main__":
    # the arrhythmia analysis runs in a spawned worker process: a frozen executable must answer as that
    # worker when it is started as one, instead of starting a second station
    multiprocessing.freeze_support()
    sys.exit(main())
