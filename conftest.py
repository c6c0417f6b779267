"""pytest runs the notebooks in quick mode unless RNN_COURSE_QUICK says otherwise."""

import os

os.environ.setdefault("RNN_COURSE_QUICK", "1")
