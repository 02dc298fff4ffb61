#!/usr/bin/env bash
# Keep main's benchmark runs between CI jobs on a git branch of results, bounded in size.
#
#   scripts/ci_results_branch.sh restore DIR [BRANCH]     # DIR/runs/ = the stored runs (empty the first time)
#   scripts/ci_results_branch.sh save DIR KEEP [BRANCH]   # keep the newest KEEP runs, push them
#
# BRANCH (default benchmark-results) holds one commit with the newest KEEP run folders under runs/:
# `save` prunes (harness prune, commit order), commits the folder as a fresh orphan commit and
# force-pushes it, so neither the tree nor the branch's history grows past KEEP runs. Run it from a
# checkout whose `origin` may be pushed to (GitHub Actions: `permissions: contents: write`). DIR is a
# git worktree of that checkout; `restore` creates it, `save` removes it.
set -euo pipefail

cmd=${1:?usage: $0 restore DIR [BRANCH] | save DIR KEEP [BRANCH]}
dir=${2:?DIR missing}
harness=${HARNESS:-python -m harness}

restore() {
  local branch=${1:-benchmark-results}
  if git ls-remote --exit-code --heads origin "$branch" >/dev/null 2>&1; then
    git fetch -q --depth=1 origin "$branch"
    git worktree add -q --detach "$dir" FETCH_HEAD
  else
    git worktree add -q --detach "$dir" HEAD
    git -C "$dir" rm -rqf --ignore-unmatch .
  fi
  mkdir -p "$dir/runs"
  echo "restored $(find "$dir/runs" -mindepth 1 -maxdepth 1 -type d | wc -l) run(s) into $dir/runs"
}

save() {
  local keep=${1:?KEEP missing} branch=${2:-benchmark-results}
  $harness prune "$dir/runs" --keep "$keep"
  git -C "$dir" checkout -q --orphan "results-$$"
  git -C "$dir" rm -rqf --cached --ignore-unmatch . >/dev/null
  git -C "$dir" add -f runs
  git -C "$dir" -c user.name="harness-ci" -c user.email="harness-ci@users.noreply.github.com" \
    commit -qm "benchmark results: newest $keep runs (${GITHUB_SHA:-$(git rev-parse HEAD)})"
  git -C "$dir" push -qf origin "HEAD:refs/heads/$branch"
  git worktree remove --force "$dir"
  git branch -qD "results-$$" 2>/dev/null || true
  echo "saved the newest $keep run(s) to branch $branch"
}

case $cmd in
  restore) restore "${3:-}" ;;
  save) save "${3:-}" "${4:-}" ;;
  *) echo "usage: $0 restore DIR [BRANCH] | save DIR KEEP [BRANCH]" >&2; exit 2 ;;
esac
