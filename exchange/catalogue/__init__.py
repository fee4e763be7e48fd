"""The resource catalogue as data (编目 -> 审核 -> 发布 -> 停用): what departments catalogue and the
bureau governs. Resource schemas published here join the built-in files in `Runtime.schemas`."""
