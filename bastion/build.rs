fn main() {
    buildinfo::emit_git_commit();
}
