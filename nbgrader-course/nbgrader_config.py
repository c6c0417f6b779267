"""nbgrader's configuration for this course (docs/grading.md, "nbgrader").

Run nbgrader in this folder: `source/lessonNN/` holds a link to lesson NN in `../notebooks/`,
one assignment per lesson. For example:
    nbgrader generate_assignment lesson05
    nbgrader autograde lesson05
    nbgrader generate_feedback lesson05
The checks are strict by themselves under nbgrader (`rnn_course.settings.check_mode`), and the
lessons run in quick mode unless RNN_COURSE_QUICK says otherwise.
"""

import os

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.converters import Autograde, GenerateAssignment
from nbgrader.preprocessors import Execute, GetGrades

from rnn_course.tools.nbgrading import GuardedExecute, StudentEdition, WrapOutputs

c = get_config()  # noqa: F821 (nbgrader defines it when it reads this file)

c.CourseDirectory.course_id = "rnn-course"
# Quick mode for every kernel nbgrader starts (autograde, and validate from this folder).
os.environ.setdefault("RNN_COURSE_QUICK", "1")
# Seconds per cell (nbgrader's default, 30, interrupted lesson 10's training): the slowest
# lesson in quick mode, lesson 10, takes 54 s as a whole on 2 quiet cores (docs/grading.md).
c.Execute.timeout = 300

# The release is the course's student edition (badge on exercises/, no run stamp).
c.GenerateAssignment.preprocessors = [
    StudentEdition,
    *GenerateAssignment.class_traits()["preprocessors"].default(),
]
# Autograde notes the checks before the first cell; a test cell after an answer changed one
# scores 0 and says why.
c.Autograde.autograde_preprocessors = [
    GuardedExecute if step is Execute else step
    for step in Autograde.class_traits()["autograde_preprocessors"].default()
]
# Feedback wraps long messages instead of cutting them.
c.GenerateFeedback.preprocessors = [GetGrades, CSSHTMLHeaderPreprocessor, WrapOutputs]
