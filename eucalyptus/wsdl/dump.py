# -*- test-case-name: tests.wsdl.test_contract -*-
"""
Print the WSDL that spyne generates for a component, for diffing against
(or regenerating) the checked-in contract::

    python -m eucalyptus.wsdl.dump nc|cc|sc|empyrean|s3 [--url URL]

The C{soap:address} is a fixed placeholder (the original default endpoint on
C{localhost}) unless C{--url} is given, so that the output is reproducible.
Run it with C{-m}: this package has a module named C{types}, which would
shadow the standard library if this file were run as a script.
"""

import argparse
import sys

from eucalyptus.wsdl import make_application
from eucalyptus.wsdl.binding import build_wsdl

__all__ = ["DOCUMENTS", "DEFAULT_URLS", "main"]

#: Document name on the command line to the component that serves it.
DOCUMENTS = {"nc": "nc", "cc": "cc", "sc": "sc", "empyrean": "clc", "s3": "s3"}

#: Document name to the placeholder endpoint written in C{soap:address}.
DEFAULT_URLS = {
    "nc": "http://localhost:8775/axis2/services/EucalyptusNC",
    "cc": "http://localhost:8774/axis2/services/EucalyptusCC",
    "sc": "http://localhost:8773/services/Storage",
    "empyrean": "http://localhost:8773/services/Empyrean",
    "s3": "http://localhost:8773/services/Walrus/soap",
}


def main(argv=None, stdout=None):
    """
    Write the generated WSDL of one document to C{stdout}.

    @param argv: the command-line arguments, without the program name
        (default: C{sys.argv[1:]}).
    @param stdout: a binary file to write to (default: C{sys.stdout.buffer}).
    @return: the exit status, C{0}.
    """
    parser = argparse.ArgumentParser(
        prog="python -m eucalyptus.wsdl.dump",
        description="Print the spyne-generated WSDL of a component.")
    parser.add_argument("document", choices=sorted(DOCUMENTS))
    parser.add_argument(
        "--url", help="endpoint written in soap:address "
        "(default: the original default endpoint on localhost)")
    options = parser.parse_args(argv)
    if stdout is None:
        stdout = sys.stdout.buffer
    url = options.url or DEFAULT_URLS[options.document]
    application = make_application(DOCUMENTS[options.document])
    stdout.write(build_wsdl(application, url))
    stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
