import sys

from nextword.cli import main

sys.exit(main())
