#!/bin/bash
# rotate-backups.sh DIR KEEP: keep the KEEP newest backups of each series in DIR.
# Backups are named SERIES-YYYY-MM-DD.tar.gz; other files are left alone.

dir=$1
keep=$2
cd $dir

for name in $(ls *.tar.gz | sed 's/-[0-9-]*\.tar\.gz$//' | sort -u); do
    files=$(ls -t $name-*.tar.gz)
    count=0
    for f in $files; do
        count=$((count + 1))
        if [ $count -gt $keep ]; then
            rm $f
            echo "removed $f"
        fi
    done
done
