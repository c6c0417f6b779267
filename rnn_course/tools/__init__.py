"""Course tooling that the lessons never import: run-all, student editions, grading, Colab, assets.

Each command of `python -m rnn_course` lives in one module here.
"""
