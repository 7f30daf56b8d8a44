//! Lines of an assembled script (`--- @include`) mapped back to the files they are written in,
//! so that a Lua error at `user_script:N` names the included file and its own line.

/// A run of lines of an assembled script that comes from one file: assembled lines
/// `first_line..` are that file's lines `first_original_line..`. The derive writes these for
/// scripts that include other files, into [`RegisteredScript::source_map`](crate::RegisteredScript).
///
/// ```
/// use redis_script::SourceSegment;
///
/// let map = [
///     SourceSegment { first_line: 1, path: "lua/job.lua", first_original_line: 1 },
///     SourceSegment { first_line: 2, path: "lua/includes/util.lua", first_original_line: 1 },
///     SourceSegment { first_line: 9, path: "lua/job.lua", first_original_line: 2 },
/// ];
/// assert_eq!(redis_script::SourceSegment::locate(&map, "lua/job.lua", 4), ("lua/includes/util.lua", 3));
/// assert_eq!(redis_script::SourceSegment::locate(&map, "lua/job.lua", 10), ("lua/job.lua", 3));
/// assert_eq!(redis_script::SourceSegment::locate(&[], "lua/job.lua", 10), ("lua/job.lua", 10));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SourceSegment {
    /// The segment's first line in the assembled script (as sent), 1-based.
    pub first_line: usize,
    /// The file, relative to the crate root with `/` separators.
    pub path: &'static str,
    /// The line of that file the segment starts with, 1-based.
    pub first_original_line: usize,
}

impl SourceSegment {
    /// The file and line that line `line` of an assembled script comes from; `path` and `line`
    /// themselves when the map is empty (a script of one file).
    ///
    /// ```
    /// assert_eq!(redis_script::SourceSegment::locate(&[], "lua/x.lua", 3), ("lua/x.lua", 3));
    /// ```
    pub fn locate(map: &[SourceSegment], path: &'static str, line: usize) -> (&'static str, usize) {
        let at = map.partition_point(|segment| segment.first_line <= line);
        match at.checked_sub(1).and_then(|index| map.get(index)) {
            Some(segment) => (
                segment.path,
                segment.first_original_line + (line - segment.first_line),
            ),
            None => (path, line),
        }
    }
}
