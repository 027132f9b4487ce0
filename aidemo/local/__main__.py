"""``python -m aidemo.local --home DIR``: run the local service in the foreground."""

import argparse
import logging

from aidemo.local.process.home import ServiceHome
from aidemo.local.process.service import serve

parser = argparse.ArgumentParser(prog="python -m aidemo.local", description=__doc__)
parser.add_argument("--home", help="service home directory (default: $AIDEMO_HOME or ./.aidemo)")
parser.add_argument("--log", help="log to this file, rotated at 1 MB (default: the console)")
args = parser.parse_args()
logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
serve(ServiceHome.at(args.home), args.log)
