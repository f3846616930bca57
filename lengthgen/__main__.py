import sys

from lengthgen.cli.main import main

sys.exit(main())
