#!/bin/bash
# rotate-backups.sh DIR KEEP: keep the KEEP newest backups of each series in DIR.
# Backups are named SERIES-YYYY-MM-DD.tar.gz; other files are left alone.
set -u

usage() {
    echo "usage: rotate-backups.sh DIR KEEP (KEEP a whole number, at least 1)" >&2
    exit 2
}

[ $# -eq 2 ] || usage
dir=$1
keep=$2
[[ $keep =~ ^[1-9][0-9]*$ ]] || usage
[ -d "$dir" ] || usage

pattern='^(.+)-([0-9]{4}-[0-9]{2}-[0-9]{2})\.tar\.gz$'
shopt -s nullglob

# Each series' backups, by name; a name sorts like its date within a series.
declare -A backups
for path in "$dir"/*.tar.gz; do
    file=${path##*/}
    [[ -f $path && ! -L $path && $file =~ $pattern ]] || continue
    backups[${BASH_REMATCH[1]}]+="$file"$'\n'
done

status=0
for series in "${!backups[@]}"; do
    mapfile -t files < <(printf '%s' "${backups[$series]}" | sort -r)
    for file in "${files[@]:keep}"; do
        if rm -- "$dir/$file"; then
            echo "removed $file"
        else
            status=1
        fi
    done
done
exit $status
