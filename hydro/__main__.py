import sys

from hydro.cli import main

sys.exit(main())
