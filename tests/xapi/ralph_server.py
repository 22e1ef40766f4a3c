"""Ralph's LRS as the xAPI tests run it, under the Python of .venv-ralph:

    .venv-ralph/bin/python tests/xapi/ralph_server.py PORT

Ralph's file store writes each POST of statements with the `index` operation, which refuses a
file that exists: its LRS stores one batch per account and answers 500 to the next. Lectern sends
batch after batch, so here the store appends instead (`append`, which the file backend offers).
"""

import sys

import uvicorn
from ralph.backends.data.base import BaseOperationType
from ralph.backends.lrs.fs import FSLRSBackend

FSLRSBackend.default_operation_type = BaseOperationType.APPEND

if __name__ == "__main__":
    uvicorn.run("ralph.api:app", host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
