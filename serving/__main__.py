"""`python -m serving`: see serving/supervisor.py."""
import sys

from serving.supervisor import main

sys.exit(main())
