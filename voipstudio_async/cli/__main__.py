"""``python -m voipstudio_async.cli``: the same as the ``voipstudio`` command."""

import sys

from . import main

sys.exit(main())
