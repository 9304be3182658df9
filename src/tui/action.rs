//! What the user can ask for, named by intent rather than by key.

use super::explorer::ExplorerMode;

/// One thing to do; keys, mouse events and the loader all become actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Leave the program.
    Quit,
    /// Close the current screen or dialog and go back to where it was opened.
    Back,
    /// Show the keys of the current screen.
    ShowHelp,
    /// Go to the overview.
    ShowOverview,
    /// Go to the review queue.
    ShowQueue,
    /// Go to the departments.
    ShowDepartments,
    /// Go to the rejected rows.
    ShowRejects,
    /// Go to the recalculation history.
    ShowRecalculations,
    /// Go to the month-end checklist.
    ShowChecklist,
    /// Open the export menu.
    ShowExport,
    /// Go to where the selected check of the checklist is fixed.
    FixCheck,
    /// Share the unattributed usage among the departments (asks how).
    ShareUnattributed,
    /// Sign the selected fused department off (asks the role, the name and a note).
    SignOff,
    /// Take back a sign-off of the selected department (asks the role).
    WithdrawSignOff,
    /// Choose or leave out the selected output of the export menu.
    ToggleOutput,
    /// Change the folder the export menu writes into.
    ChangeFolder,
    /// Write the outputs chosen in the export menu.
    WriteOutputs,
    /// Move the selection down one row.
    Down,
    /// Move the selection up one row.
    Up,
    /// Move the selection down one page.
    PageDown,
    /// Move the selection up one page.
    PageUp,
    /// Select the first row.
    Top,
    /// Select the last row.
    Bottom,
    /// Open what is selected (a line's detail).
    Open,
    /// Move the focus to the next panel.
    NextPanel,
    /// Approve the selected line.
    Approve,
    /// Adjust the selected line (asks an amount, then a reason).
    Adjust,
    /// Dispute the selected line (asks a note).
    Dispute,
    /// Add a note to the selected line.
    Note,
    /// Undo the last decision, note, adjustment or acknowledgement.
    Undo,
    /// Search the queue.
    Search,
    /// Show the next decision filter.
    CycleFilter,
    /// Sort the queue by the next key.
    CycleSort,
    /// Assign the selected unattributed caller to a department.
    AssignCaller,
    /// Change the complexity weight of the line's model.
    ChangeComplexity,
    /// Change the price of the line's model.
    ChangePrice,
    /// Read the sources again and recalculate when they changed.
    Reload,
    /// Acknowledge the selected rejected row.
    Acknowledge,
    /// Change the reviewer's name.
    SetReviewer,
    /// Read back the source rows of the selected caller and day.
    ReadRows,
    /// Type a character into the open dialog.
    Type(char),
    /// Erase the last character of the dialog.
    Erase,
    /// Erase the whole text of the dialog.
    EraseAll,
    /// Confirm the dialog.
    Submit,
    /// Select the row at this screen line (a mouse click).
    Click(u16),
    /// Time passed: refresh what moves on its own (the loading gauge).
    Tick,
    /// Open the explorer on the department that spiked worst.
    ShowExplorer,
    /// Show one of the explorer's views.
    Explore(ExplorerMode),
    /// Explore the next department.
    NextDepartment,
    /// Explore the previous department.
    PreviousDepartment,
    /// Move the explorer's window back one step.
    WindowEarlier,
    /// Move the explorer's window on one step.
    WindowLater,
    /// Widen the explorer's window by one step.
    WidenWindow,
    /// Narrow the explorer's window by one step.
    NarrowWindow,
    /// Chart the next measure (list cost, converted amount, tokens).
    CycleMeasure,
    /// Chart per hour or per day.
    CycleStep,
}
