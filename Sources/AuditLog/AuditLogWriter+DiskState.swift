extension AuditLogWriter {
    /// auditd's disk-state flags, as its state report (SIGCONT) shows them.
    public struct DiskState: Sendable, Equatable {
        /// False once the disk was found full (`space left on partition = no`).
        public var spaceLeftOnPartition: Bool
        /// `space_left_action` ran and was not re-armed.
        public var spaceLeftActionPerformed: Bool
        /// `admin_space_left_action` ran and was not re-armed.
        public var adminSpaceLeftActionPerformed: Bool
        /// A write or open failed since the last resume.
        public var diskErrorDetected: Bool
    }

    public var diskState: DiskState {
        DiskState(spaceLeftOnPartition: !spaceMarks.diskFull, spaceLeftActionPerformed: spaceMarks.spaceLeftActed,
                  adminSpaceLeftActionPerformed: spaceMarks.adminSpaceLeftActed,
                  diskErrorDetected: diskErrorWarnings > 0 || failing)
    }
}
