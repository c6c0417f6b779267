#!/usr/bin/env bash
# Grade a class on a Slurm cluster (docs/grading.md, "A class on many machines"): a job array
# whose tasks each grade one shard of the submissions in the course's container
# (deploy/Containerfile, built or pulled on every node as IMAGE). Task SLURM_ARRAY_TASK_ID of a
# range --array=FIRST-LAST grades shard ID - FIRST + 1 of SLURM_ARRAY_TASK_COUNT.
#   job=$(sbatch --parsable deploy/grade-slurm.sh)
#   sbatch --dependency=afterok:$job --wrap "python -m rnn_course grade-merge results/ --out results/grades.csv"
# Settings (environment): ENGINE (podman or docker), IMAGE, SUBMISSIONS, RESULTS, DATA (folders
# on a file system every node sees; DATA holds MNIST/raw for lessons 01, 07 and 08).
#SBATCH --job-name=rnn-course-grading
#SBATCH --array=1-8
#SBATCH --cpus-per-task=2
#SBATCH --mem=16G
#SBATCH --time=04:00:00
#SBATCH --output=grading-%A_%a.log
set -euo pipefail
engine=${ENGINE:-podman}
image=${IMAGE:-rnn-course-grader}
submissions=${SUBMISSIONS:-$PWD/submissions}
results=${RESULTS:-$PWD/results}
data=${DATA:-$PWD/data}
shard="$((SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN + 1))/$SLURM_ARRAY_TASK_COUNT"
mkdir -p "$results" "$data"
# exit status 1: some submission got an error row (in the table), which is no failure of the task
"$engine" run --rm --network none --read-only --tmpfs /tmp:size=4g \
  --cap-add SYS_ADMIN --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
  -v "$submissions:/submissions:ro" -v "$results:/results" -v "$data:/data:ro" \
  "$image" grade /submissions --out /results/grades.csv --jobs "${SLURM_CPUS_PER_TASK:-2}" \
  --shard "$shard" || [ $? -eq 1 ]
