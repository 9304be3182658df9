//! The export menu: the folder, each output with its file and whether it is chosen, what the
//! checklist says of the archive, and what the last writing wrote or why not.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Row, Table, Wrap};

use super::{cut, header_style, table_state};
use crate::review::Review;
use crate::tui::action::Action;
use crate::tui::app::{App, Screen};
use crate::tui::export::Choice;
use crate::tui::keys;
use crate::tui::ui::table_rows;

/// The folder line, the menu, the archive's gate and what was written.
pub fn layout(area: Rect) -> [Rect; 4] {
    let menu = Choice::ALL.len() as u16 + 3;
    Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(menu),
        Constraint::Length(1),
        Constraint::Min(3),
    ])
    .areas(area)
}

/// Draws the export menu.
pub fn render(app: &App, frame: &mut Frame, area: Rect) {
    let Some(review) = &app.review else {
        return;
    };
    let [folder, menu, gate, written] = layout(area);
    let folder_text = format!(" into {}", app.export.folder.display());
    frame.render_widget(
        Line::from(cut(&folder_text, usize::from(area.width))),
        folder,
    );
    render_menu(app, review, frame, menu);
    frame.render_widget(gate_line(app), gate);
    render_written(app, frame, written);
}

fn render_menu(app: &App, review: &Review, frame: &mut Frame, area: Rect) {
    let mark = |chosen: bool| match (chosen, app.theme.ascii) {
        (true, true) => "[x]",
        (true, false) => "[✓]",
        (false, _) => "[ ]",
    };
    let rows = Choice::ALL.into_iter().map(|choice| {
        let target = choice.target(&app.export.folder, &review.attribution);
        let name = target
            .file_name()
            .map_or(String::new(), |n| n.to_string_lossy().into_owned());
        let name = match choice {
            Choice::Alerts => format!("{name}/"),
            _ => name,
        };
        Row::new(vec![
            Line::from(mark(app.export.is_chosen(choice))),
            Line::from(choice.label()),
            Line::from(name),
        ])
    });
    let widths = [
        Constraint::Length(3),
        Constraint::Length(20),
        Constraint::Fill(1),
    ];
    let table = Table::new(rows, widths)
        .header(Row::new(["", "output", "file"]).style(header_style(&app.theme)))
        .row_highlight_style(app.theme.selected())
        .block(Block::bordered().title(" Export "));
    let height = table_rows(area).height;
    let mut state = table_state(app.export.cursor.selected, height, true);
    frame.render_stateful_widget(table, area, &mut state);
}

/// What the checklist says of the archive.
fn gate_line(app: &App) -> Line<'static> {
    let Some(checklist) = &app.checklist.checklist else {
        return Line::from("");
    };
    let (text, style) = match checklist.ready(None) {
        _ if !app.checklist.sources_known() => (
            "archive: hashing the sources to complete the checklist…".to_string(),
            app.theme.dim(),
        ),
        Ok(()) => (
            "archive: the checklist allows it".to_string(),
            app.theme.pass(),
        ),
        Err(_) if checklist.ready(Some("note")).is_ok() => (
            "archive: allowed with a note, asked when writing".to_string(),
            app.theme.allowed(),
        ),
        Err(blocking) => (
            format!(
                "archive: blocked by {} check(s) of the checklist ({} shows them)",
                blocking.len(),
                keys::key_for(Screen::Export, Action::ShowChecklist)
            ),
            app.theme.error(),
        ),
    };
    Line::from(Span::styled(format!(" {text}"), style))
}

fn render_written(app: &App, frame: &mut Frame, area: Rect) {
    let lines: Vec<Line> = if app.export.is_writing() {
        vec![Line::styled("writing…", app.theme.dim())]
    } else if app.export.written.is_empty() {
        vec![Line::styled(
            "nothing written yet: choose outputs, then write",
            app.theme.dim(),
        )]
    } else {
        app.export
            .written
            .iter()
            .map(|m| match m.error {
                true => Line::styled(m.text.clone(), app.theme.error()),
                false => Line::from(m.text.clone()),
            })
            .collect()
    };
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::bordered().title(" Written ")),
        area,
    );
}
