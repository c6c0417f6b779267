"""pytest runs the notebooks in quick mode, with checks that raise on a wrong answer.

Both are defaults: RNN_COURSE_QUICK and RNN_COURSE_CHECKS set in the environment win.
"""

import os

os.environ.setdefault("RNN_COURSE_QUICK", "1")
os.environ.setdefault("RNN_COURSE_CHECKS", "strict")
