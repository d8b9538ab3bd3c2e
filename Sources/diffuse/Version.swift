/// The tool's version, printed by `diffuse --version`.
let diffuseVersion = "0.1.0"
