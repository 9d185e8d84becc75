/// The release version, printed by `calltrackd version` and `--version`.
public enum CalltrackdVersion {
    public static let current = "0.1.0-dev"
}
