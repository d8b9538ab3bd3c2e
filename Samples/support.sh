# Shell functions the Samples/ scripts share; source it after setting `parts` (the parts asked for).

# Whether the part $1 was asked for.
wants() { [[ " ${parts[*]} " == *" $1 "* ]]; }

# take FROM TO N: the first N images (by name) of every class folder of FROM, copied into TO.
take() {
    local from=$1 to=$2 n=$3
    for class_folder in "$from"/*/; do
        local class
        class=$(basename "$class_folder")
        mkdir -p "$to/$class"
        find "$class_folder" -maxdepth 1 -name '*.png' -printf '%f\n' | sort | sed -n "1,${n}p" |
            while read -r file; do cp "$class_folder/$file" "$to/$class/"; done
    done
}
