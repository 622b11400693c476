#!/bin/bash
# Reference solution: a release branch from v1.0.0 with main's fix: commits cherry-picked in
# order. The byte-order-mark fix was made after strip_comments was renamed drop_comments on
# main, so it conflicts: the fix is kept, under 1.0's name. Then the version, the tag, a push.
set -euo pipefail
work=$(mktemp -d)
git clone -q /app/project.git "$work/textstat"
cd "$work/textstat"
git config user.name "Release Manager"
git config user.email "release@example.org"
git switch -q -c release/1.0.x v1.0.0
for commit in $(git log --reverse --format='%H' v1.0.0..origin/main); do
    case "$(git log -1 --format=%s "$commit")" in fix:*) ;; *) continue ;; esac
    if ! git cherry-pick -x "$commit" >/dev/null 2>&1; then
        for file in $(git diff --name-only --diff-filter=U); do
            # main's version of the file, with the helper's 1.0 name
            git show "$commit:$file" | sed 's/drop_comments/strip_comments/g' > "$file"
            git add "$file"
        done
        GIT_EDITOR=true git cherry-pick --continue >/dev/null
    fi
done
python3 -m unittest -q
sed -i 's/^__version__ = .*/__version__ = "1.0.1"/' textstat/__init__.py
git commit -q -am "Release 1.0.1"
git tag -a v1.0.1 -m "textstat 1.0.1"
git push -q origin release/1.0.x v1.0.1
rm -rf "$work"
