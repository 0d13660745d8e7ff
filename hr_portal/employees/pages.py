"""Employees: directory, profile, departments, org chart and CSV import pages."""

from __future__ import annotations

from typing import Any

import reflex as rx

from hr_portal.core import files as core_files
from hr_portal.core.authz import ALL_ROLES, HR_ROLES, register_page
from hr_portal.employees.state import (
    ALL,
    PAGE_SIZES,
    TYPE_LABELS,
    DepartmentsState,
    DirectoryState,
    EmployeeFormState,
    ImportState,
    OrgChartState,
    ProfileState,
)
from hr_portal.ui.components import error_callout, field, page_header, stat_card
from hr_portal.ui.layout import app_shell

register_page("employees", ALL_ROLES, nav=("Employees", "/employees", "users"), order=50)
register_page("departments", HR_ROLES, nav=("Departments", "/departments", "building-2"), order=55)
register_page("org_chart", ALL_ROLES, nav=("Org chart", "/org-chart", "network"), order=58)
register_page("employees_import", HR_ROLES)

WIDE = ["none", "none", "table-cell"]  # columns shown from tablet width up
WIDE_INLINE = ["none", "none", "inline"]  # button labels shown from tablet width up (icons below)
NARROW = ["inline-flex", "inline-flex", "none"]  # shown on phones only (instead of a WIDE column)


def register(app: rx.App) -> None:
    app.add_page(directory_page, route="/employees", title="Employees · HR Portal", on_load=DirectoryState.open_directory)
    app.add_page(import_page, route="/employees/import", title="Import employees · HR Portal",
                 on_load=ImportState.open_import)
    app.add_page(profile_page, route="/employees/[profile_id]", title="Profile · HR Portal",
                 on_load=ProfileState.open_profile)
    app.add_page(departments_page, route="/departments", title="Departments · HR Portal",
                 on_load=DepartmentsState.open_departments)
    app.add_page(org_chart_page, route="/org-chart", title="Org chart · HR Portal", on_load=OrgChartState.open_chart)


# ---------------------------------------------------------------- building blocks


def status_badge(status: rx.Var) -> rx.Component:
    return rx.cond(status == "active", rx.badge("Active", color_scheme="green", variant="soft"),
                   rx.badge("Inactive", color_scheme="gray", variant="soft"))


def _select(id: str, value: rx.Var, on_change: Any, options: rx.Var | list, *, all_label: str | None = None,
            width: str = "100%", size: str = "2", aria: str | None = None, disabled: Any = False) -> rx.Component:
    """A Radix select over [{value, label}] options, optionally with an "all" entry."""
    items: list[rx.Component] = [rx.select.item(all_label, value=ALL)] if all_label else []
    if isinstance(options, list):
        items += [rx.select.item(o["label"], value=o["value"]) for o in options]
        content = rx.select.content(*items)
    else:
        content = rx.select.content(*items, rx.foreach(options, lambda o: rx.select.item(o["label"], value=o["value"])))
    return rx.select.root(
        rx.select.trigger(id=id, width=width, aria_label=aria) if aria else rx.select.trigger(id=id, width=width),
        content, value=value, on_change=on_change, size=size, disabled=disabled,
    )


def picker(id: str, *, query: rx.Var, results: rx.Var, selected: rx.Var | str, on_query: Any, on_pick: Any,
           on_clear: Any, placeholder: str, clear_label: str, aria_label: str | None = None,
           icon: str = "user") -> rx.Component:
    """Search-as-you-type picker: the chosen item as a removable badge, or an input with matches below."""
    return rx.box(
        rx.cond(
            selected,
            rx.hstack(
                rx.badge(rx.icon(icon, size=14), selected, size="2", variant="surface", max_width="100%"),
                rx.icon_button(rx.icon("x", size=14), on_click=on_clear, variant="ghost", size="1",
                               aria_label=clear_label, type="button"),
                align="center", spacing="2", min_height="32px",
            ),
            rx.vstack(
                rx.input(rx.input.slot(rx.icon("search", size=14)), id=id, value=query, on_change=on_query,
                         placeholder=placeholder, auto_complete="off", width="100%", size="2",
                         **({"aria_label": aria_label} if aria_label else {})),
                rx.cond(
                    results.length() > 0,
                    rx.vstack(
                        rx.foreach(results, lambda r: rx.button(
                            rx.vstack(rx.text(r["name"], size="2", weight="medium"),
                                      rx.text(r["designation"], size="1", color_scheme="gray"),
                                      spacing="0", align="start"),
                            on_click=on_pick(r["id"]), variant="ghost", color_scheme="gray", type="button",
                            width="100%", justify="start", height="auto", padding_y="6px",
                        )),
                        spacing="0", width="100%", padding="4px", border=f"1px solid {rx.color('gray', 6)}",
                        border_radius="6px", background_color=rx.color("gray", 1), role="listbox",
                        max_height="240px", overflow_y="auto",
                    ),
                    rx.fragment(),
                ),
                spacing="1", width="100%",
            ),
        ),
        width="100%",
    )


def _sort_header(label: str, column: str) -> rx.Component:
    arrow = rx.cond(DirectoryState.sort_by == column,
                    rx.cond(DirectoryState.sort_order == "asc", rx.icon("arrow-up", size=14),
                            rx.icon("arrow-down", size=14)),
                    rx.icon("arrow-up-down", size=14, opacity="0.4"))
    return rx.button(label, arrow, on_click=DirectoryState.sort(column), variant="ghost", color_scheme="gray",
                     high_contrast=True, size="2", font_weight="bold", aria_label=f"Sort by {label}",
                     margin_x="-8px")


# ---------------------------------------------------------------- directory


def _directory_row(r: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(
            rx.hstack(
                rx.avatar(src=r["photo"], fallback=r["initials"], size="2", radius="full"),
                rx.vstack(
                    rx.link(r["name"], href="/employees/" + r["id"].to(str), weight="medium", size="2",
                            on_click=rx.stop_propagation),
                    rx.text(r["email"], size="1", color_scheme="gray"),
                    spacing="0", min_width="0",
                ),
                spacing="3", align="center",
            ),
        ),
        rx.table.cell(r["code"], display=WIDE, white_space="nowrap"),
        rx.table.cell(rx.vstack(rx.text(r["designation"], size="2"), rx.text(r["department"], size="1",
                                                                                 color_scheme="gray"), spacing="0"),
                      display=WIDE),
        rx.table.cell(r["manager"], display=WIDE),
        rx.table.cell(r["type"], display=WIDE, white_space="nowrap"),
        rx.table.cell(r["joined"], display=WIDE, white_space="nowrap"),
        rx.table.cell(status_badge(r["status"])),
        on_click=DirectoryState.open_profile(r["id"]),
        style={"cursor": "pointer", "_hover": {"background_color": rx.color("gray", 3)}},
    )


def _filters() -> rx.Component:
    return rx.flex(
        rx.box(
            rx.input(rx.input.slot(rx.icon("search", size=16)), value=DirectoryState.search,
                     on_change=DirectoryState.set_search, placeholder="Search name, email or code",
                     aria_label="Search employees", width="100%", size="2", type="search"),
            flex="2 1 240px", min_width="200px",
        ),
        rx.box(_select("filter_department", DirectoryState.department,
                       lambda v: DirectoryState.set_filter("department", v), DirectoryState.departments,
                       all_label="All departments", aria="Department"), flex="1 1 150px"),
        rx.box(_select("filter_status", DirectoryState.status, lambda v: DirectoryState.set_filter("status", v),
                       [{"value": "active", "label": "Active"}, {"value": "inactive", "label": "Inactive"}],
                       all_label="Any status", aria="Status"), flex="1 1 120px"),
        rx.box(_select("filter_type", DirectoryState.employment_type,
                       lambda v: DirectoryState.set_filter("employment_type", v),
                       [{"value": k, "label": v} for k, v in TYPE_LABELS.items()], all_label="Any type",
                       aria="Employment type"), flex="1 1 120px"),
        rx.box(_select("filter_company", DirectoryState.company, lambda v: DirectoryState.set_filter("company", v),
                       DirectoryState.companies, all_label="All companies", aria="Company"), flex="1 1 150px"),
        rx.box(picker("filter_manager", query=DirectoryState.manager_query, results=DirectoryState.manager_results,
                      selected=DirectoryState.manager_filter_name, on_query=DirectoryState.search_manager,
                      on_pick=DirectoryState.pick_manager, on_clear=DirectoryState.clear_manager,
                      placeholder="Manager…", clear_label="Clear manager filter", aria_label="Filter by manager"),
               flex="1 1 180px", max_width="320px"),
        rx.cond(DirectoryState.filtered,
                rx.button(rx.icon("x", size=14), "Clear filters", variant="soft", color_scheme="gray", size="2",
                          on_click=DirectoryState.clear_filters),
                rx.fragment()),
        wrap="wrap", spacing="2", width="100%", align="start",
    )


def _pager() -> rx.Component:
    return rx.flex(
        rx.hstack(
            rx.text("Rows per page", size="2", color_scheme="gray", display=["none", "block"]),
            _select("page_size", DirectoryState.page_size, DirectoryState.set_page_size,
                    [{"value": s, "label": s} for s in PAGE_SIZES], width="80px", aria="Rows per page"),
            align="center", spacing="2",
        ),
        rx.spacer(),
        rx.text(DirectoryState.range_label, size="2", color_scheme="gray"),
        rx.hstack(
            rx.icon_button(rx.icon("chevron-left", size=16), on_click=DirectoryState.go_page(-1),
                           disabled=DirectoryState.page <= 1, variant="soft", aria_label="Previous page"),
            rx.text(DirectoryState.page, " / ", DirectoryState.page_count, size="2"),
            rx.icon_button(rx.icon("chevron-right", size=16), on_click=DirectoryState.go_page(1),
                           disabled=DirectoryState.page >= DirectoryState.page_count, variant="soft",
                           aria_label="Next page"),
            align="center", spacing="2",
        ),
        align="center", spacing="3", width="100%", wrap="wrap", padding_top="12px",
    )


def _empty_directory() -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.icon("users", size=32, color=rx.color("gray", 9)),
            rx.cond(DirectoryState.filtered,
                    rx.text("No one matches these filters.", weight="medium"),
                    rx.text("Nobody is here yet.", weight="medium")),
            rx.cond(DirectoryState.filtered,
                    rx.button("Clear filters", variant="soft", on_click=DirectoryState.clear_filters),
                    rx.cond(DirectoryState.can_manage,
                            rx.text("Add your first employee or import a CSV file.", size="2", color_scheme="gray"),
                            rx.fragment())),
            align="center", spacing="2",
        ),
        padding="48px", width="100%",
    )


def directory_page() -> rx.Component:
    actions = rx.hstack(
        rx.cond(DirectoryState.can_manage,
                rx.link(rx.button(rx.icon("upload", size=16), "Import CSV", variant="soft"), href="/employees/import"),
                rx.fragment()),
        rx.button(rx.cond(DirectoryState.exporting, rx.spinner(size="2"), rx.icon("download", size=16)),
                  "Export CSV", variant="soft", on_click=DirectoryState.export, disabled=DirectoryState.exporting),
        rx.cond(DirectoryState.can_manage,
                rx.button(rx.icon("user-plus", size=16), "Add employee", on_click=EmployeeFormState.start_create),
                rx.fragment()),
        spacing="2", wrap="wrap",
    )
    return app_shell(
        page_header("Employees", actions, subtitle="The people you can see, with their roles and reporting lines."),
        rx.card(
            rx.vstack(
                _filters(),
                rx.box(
                    rx.table.root(
                        rx.table.header(rx.table.row(
                            rx.table.column_header_cell(_sort_header("Name", "lastName")),
                            rx.table.column_header_cell(_sort_header("Code", "employeeCode"), display=WIDE),
                            rx.table.column_header_cell("Role & department", display=WIDE),
                            rx.table.column_header_cell("Manager", display=WIDE),
                            rx.table.column_header_cell("Type", display=WIDE),
                            rx.table.column_header_cell(_sort_header("Joined", "dateOfJoining"), display=WIDE),
                            rx.table.column_header_cell("Status"),
                        ), position="sticky", top="0", z_index="1", background_color=rx.color("gray", 2)),
                        rx.table.body(rx.foreach(DirectoryState.rows, _directory_row)),
                        width="100%", size="2", variant="ghost",
                    ),
                    rx.cond(DirectoryState.total == 0, _empty_directory(), rx.fragment()),
                    width="100%", overflow_x="auto", max_height="calc(100vh - 300px)", min_height="200px",
                    overflow_y="auto", opacity=rx.cond(DirectoryState.loading, "0.6", "1"),
                ),
                _pager(),
                spacing="3", width="100%",
            ),
            width="100%", size=rx.breakpoints(initial="1", sm="2"),
        ),
        employee_form_dialog(),
    )


# ---------------------------------------------------------------- employee form (create / edit / contact)


def _err(key: str) -> rx.Var:
    return EmployeeFormState.errors.get(key, "")


def _text(label: str, name: str, camel: str, *, type: str = "text", required: bool = False,
          autocomplete: str = "off", hint: str | None = None) -> rx.Component:
    return field(
        label + (" *" if required else ""),
        rx.input(id=f"emp_{name}", name=name, type=type, default_value=EmployeeFormState.values.get(name, ""),
                 auto_complete=autocomplete, size="2", width="100%",
                 color_scheme=rx.cond(_err(camel) != "", "red", "gray")),
        id=f"emp_{name}", error=_err(camel), hint=hint,
    )


def _grid(*children: rx.Component) -> rx.Component:
    return rx.grid(*children, columns=rx.breakpoints(initial="1", sm="2"), spacing="3", width="100%")


def _section(title: str) -> rx.Component:
    return rx.text(title, size="2", weight="bold", color_scheme="gray", padding_top="4px")


def _address_fields() -> rx.Component:
    return _grid(
        _text("Address line 1", "address_line1", "addressLine1", autocomplete="address-line1"),
        _text("Address line 2", "address_line2", "addressLine2", autocomplete="address-line2"),
        _text("City", "city", "city", autocomplete="address-level2"),
        _text("Postal code", "postal_code", "postalCode", autocomplete="postal-code"),
        _text("Country", "country", "country", autocomplete="country-name"),
    )


def _hr_fields() -> rx.Component:
    s = EmployeeFormState
    return rx.vstack(
        _section("Person"),
        _grid(
            _text("First name", "first_name", "firstName", required=True),
            _text("Last name", "last_name", "lastName", required=True),
            _text("Work email", "email", "email", type="email", required=True,
                  hint="Also the sign-in email. New people get a welcome mail here."),
            _text("Phone", "phone", "phone", type="tel"),
            _text("Date of birth", "date_of_birth", "dateOfBirth", type="date"),
        ),
        _section("Job"),
        _grid(
            _text("Employee code", "employee_code", "employeeCode", hint="Leave empty to number automatically."),
            _text("Designation", "designation", "designation"),
            field("Department", picker("emp_department", query=s.department_query, results=s.department_results,
                                       selected=s.department_name, on_query=s.search_department,
                                       on_pick=s.pick_department, on_clear=s.clear_department,
                                       placeholder="Type to search departments", clear_label="Clear department",
                                       icon="building-2"),
                  id="emp_department", error=_err("departmentId")),
            field("Manager", picker("emp_manager", query=s.manager_query, results=s.manager_results,
                                    selected=s.manager_name, on_query=s.search_manager, on_pick=s.pick_manager,
                                    on_clear=s.clear_manager, placeholder="Type a name to search",
                                    clear_label="Clear manager"),
                  id="emp_manager", error=_err("managerId")),
            field("Company", _select("emp_company", s.values.get("company_id", ""),
                                     lambda v: s.set_value("company_id", v), s.companies),
                  id="emp_company", error=_err("companyId")),
            field("Employment type", _select("emp_type", s.values.get("employment_type", "full_time"),
                                             lambda v: s.set_value("employment_type", v),
                                             [{"value": k, "label": v} for k, v in TYPE_LABELS.items()]),
                  id="emp_type", error=_err("employmentType")),
            _text("Date of joining", "date_of_joining", "dateOfJoining", type="date"),
            field("Role", _select("emp_role", s.values.get("role", "employee"), lambda v: s.set_value("role", v),
                                  s.role_options, disabled=s.role_locked != ""),
                  id="emp_role", error=_err("role"),
                  hint="Managers see their direct reports; HR managers and admins see everyone."),
        ),
        rx.cond(s.role_locked != "", rx.text(s.role_locked, size="1", color_scheme="gray"), rx.fragment()),
        _section("Home address"),
        _address_fields(),
        spacing="3", width="100%",
    )


def employee_form_dialog() -> rx.Component:
    s = EmployeeFormState
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(s.title),
            rx.dialog.description(
                rx.cond(s.mode == "contact", "You can change your phone number and home address here.",
                        "Fields marked * are required."),
                size="2", color_scheme="gray"),
            rx.form(
                rx.vstack(
                    error_callout(s.error),
                    rx.cond(
                        s.mode == "contact",
                        rx.vstack(_grid(_text("Phone", "phone", "phone", type="tel")), _section("Home address"),
                                  _address_fields(), spacing="3", width="100%"),
                        _hr_fields(),
                    ),
                    rx.hstack(
                        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
                        rx.button(rx.cond(s.busy, rx.spinner(size="2"), rx.fragment()),
                                  rx.cond(s.mode == "create", "Create employee", "Save changes"),
                                  type="submit", disabled=s.busy),
                        justify="end", width="100%", spacing="2", padding_top="8px",
                    ),
                    spacing="3", width="100%", padding_top="12px",
                ),
                on_submit=s.save, reset_on_submit=False, width="100%", key=s.form_key,
                no_validate=True,  # the server checks every field and shows each error under it
            ),
            max_width="760px", width="calc(100vw - 24px)",
        ),
        open=s.open, on_open_change=s.set_open,
    )


# ---------------------------------------------------------------- profile


def _item(label: str, value: rx.Var | rx.Component) -> rx.Component:
    shown = rx.cond(value != "", value, "—") if isinstance(value, rx.Var) else value
    return rx.data_list.item(rx.data_list.label(label, min_width="140px"), rx.data_list.value(shown))


def _person_row(p: rx.Var, *, current: bool = False) -> rx.Component:
    name = rx.cond(p["linkable"], rx.link(p["name"], href="/employees/" + p["id"].to(str), weight="medium"),
                   rx.text(p["name"], weight="medium"))
    return rx.hstack(
        rx.avatar(src=p["photo"], fallback=p["name"].to(str)[:1], size="2", radius="full"),
        rx.vstack(name, rx.text(p["designation"], size="1", color_scheme="gray"), spacing="0"),
        rx.cond(p["status"] == "inactive", rx.badge("Inactive", color_scheme="gray"), rx.fragment()),
        align="center", spacing="3", padding="8px", border_radius="8px",
        background_color=rx.color("accent", 3) if current else "transparent",
    )


def _reporting_line() -> rx.Component:
    return rx.vstack(
        rx.cond(ProfileState.above.length() > 0,
                rx.vstack(rx.text("Reports to", size="1", weight="bold", color_scheme="gray"),
                          rx.foreach(ProfileState.above.reverse(), _person_row), spacing="1"),
                rx.text("Top of the organization (no manager).", size="2", color_scheme="gray")),
        rx.separator(size="4"),
        _person_row({"id": ProfileState.emp["id"], "name": ProfileState.emp["name"],
                     "designation": ProfileState.emp["designation"], "status": ProfileState.emp["status"],
                     "linkable": False, "photo": ProfileState.emp["photo"]}, current=True),
        rx.separator(size="4"),
        rx.text("Direct reports", size="1", weight="bold", color_scheme="gray"),
        rx.cond(ProfileState.reports.length() > 0,
                rx.box(rx.foreach(ProfileState.reports, _person_row), padding_left="24px",
                       border_left=f"2px solid {rx.color('gray', 5)}"),
                rx.text("No direct reports.", size="2", color_scheme="gray")),
        rx.link(rx.hstack(rx.icon("network", size=14), rx.text("Show in the org chart", size="2"), align="center"),
                href="/org-chart?person=" + ProfileState.emp["id"]),
        spacing="2", width="100%", align="start",
    )


def _history() -> rx.Component:
    def entry(h: rx.Var) -> rx.Component:
        return rx.hstack(
            rx.box(width="10px", height="10px", border_radius="50%", background_color=rx.color("accent", 9),
                   margin_top="6px", flex_shrink="0"),
            rx.vstack(
                rx.hstack(rx.text(h["action"], weight="bold", size="2"),
                          rx.text("by ", h["by"], size="2", color_scheme="gray"),
                          rx.cond(h["note"] != "", rx.badge(h["note"], variant="soft", size="1"), rx.fragment()),
                          spacing="2", wrap="wrap", align="center"),
                rx.text(h["at"], size="1", color_scheme="gray"),
                rx.foreach(h["lines"].to(list[str]), lambda line: rx.text(line, size="2")),
                spacing="1", align="start",
            ),
            spacing="3", align="start", width="100%",
        )

    return rx.cond(ProfileState.history.length() > 0,
                   rx.vstack(rx.foreach(ProfileState.history, entry), spacing="4", width="100%"),
                   rx.text("No changes recorded yet.", size="2", color_scheme="gray"))


def _deactivate_dialog() -> rx.Component:
    s = ProfileState
    reports = s.plan["report_count"].to(int)
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Deactivate " + s.plan["name"].to(str) + "?"),
            rx.alert_dialog.description(
                "They will no longer be able to sign in and are signed out everywhere at once. Their record and "
                "history stay; they disappear from pickers and the org chart. You can reactivate them later.",
                size="2"),
            rx.cond(
                reports > 0,
                rx.vstack(
                    rx.callout(rx.text(s.plan["name"].to(str), " has ", reports, " direct report(s): ",
                                       s.plan["reports"].to(list[str]).join(", "), ". They need a new manager first."),
                               icon="triangle-alert", color_scheme="amber", width="100%"),
                    rx.el.label(rx.hstack(
                        rx.checkbox(checked=s.move_reports, on_change=s.set_move_reports),
                        rx.text("Move them to ",
                                rx.cond(s.plan["manager_name"].to(str) != "", s.plan["manager_name"].to(str),
                                        "the top of the organization"), size="2"),
                        spacing="2", align="center")),
                    spacing="2", width="100%", padding_top="12px",
                ),
                rx.fragment(),
            ),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.button(rx.cond(s.busy, rx.spinner(size="2"), rx.fragment()), "Deactivate", color_scheme="red",
                          on_click=s.deactivate, disabled=s.busy | ((reports > 0) & ~s.move_reports)),
                justify="end", spacing="2", padding_top="16px",
            ),
            max_width="520px",
        ),
        open=s.confirm_open, on_open_change=s.set_confirm_open,
    )


def _profile_photo() -> rx.Component:
    """The photo, with Add/Change and Remove underneath for the person themselves and HR."""
    s = ProfileState
    e = s.emp
    has_photo = e["photo"] != ""
    avatar = rx.avatar(src=e["photo"], fallback=e["initials"], size="6", radius="full",
                       alt="Photo of " + e["name"].to(str), data_testid="profile-photo")
    controls = rx.vstack(
        rx.upload.root(
            rx.button(rx.cond(s.photo_busy, rx.spinner(size="1"), rx.icon("camera", size=12)),
                      rx.cond(has_photo, "Change", "Add photo"), size="1", variant="soft", disabled=s.photo_busy,
                      type="button"),
            id="profile_photo", accept={"image/png": [".png"], "image/jpeg": [".jpg", ".jpeg"],
                                        "image/webp": [".webp"]},
            max_files=1, multiple=False, max_size=core_files.max_bytes(),
            on_drop=s.upload_photo(rx.upload_files(upload_id="profile_photo")),
        ),
        rx.cond(has_photo,
                rx.button("Remove", size="1", variant="ghost", color_scheme="gray", on_click=s.ask_remove_photo,
                          aria_label="Remove photo"),
                rx.fragment()),
        spacing="1", align="center",
    )
    return rx.vstack(
        avatar,
        rx.cond(s.can_change_photo, controls, rx.fragment()),
        rx.cond(s.photo_error != "", rx.text(s.photo_error, size="1", color_scheme="red", max_width="180px",
                                             text_align="center", role="alert"), rx.fragment()),
        spacing="2", align="center", flex_shrink="0",
    )


def _remove_photo_dialog() -> rx.Component:
    s = ProfileState
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Remove photo?"),
            rx.alert_dialog.description("The initials are shown instead. You can add a photo again at any time.",
                                        size="2"),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Keep it", variant="soft", color_scheme="gray")),
                rx.button("Remove photo", color_scheme="red", on_click=s.remove_photo),
                justify="end", spacing="2", padding_top="12px",
            ),
            max_width="420px",
        ),
        open=s.remove_photo_open, on_open_change=s.set_remove_photo_open,
    )


def _profile_header() -> rx.Component:
    s = ProfileState
    e = s.emp
    manager = rx.cond(e["manager"] != "",
                      rx.hstack(rx.text("Manager:", size="2", color_scheme="gray"),
                                rx.cond(s.manager_linkable,
                                        rx.link(e["manager"], href="/employees/" + e["manager_id"], size="2"),
                                        rx.text(e["manager"], size="2")),
                                spacing="1"),
                      rx.text("No manager", size="2", color_scheme="gray"))
    actions = rx.hstack(
        rx.cond(s.can_edit, rx.button(rx.icon("pencil", size=14), "Edit", variant="soft",
                                      on_click=EmployeeFormState.start_edit(e["id"])), rx.fragment()),
        rx.cond(s.can_edit_contact, rx.button(rx.icon("pencil", size=14), "Edit contact details", variant="soft",
                                              on_click=EmployeeFormState.start_edit(e["id"])), rx.fragment()),
        rx.cond(s.can_deactivate,
                rx.cond(e["status"] == "active",
                        rx.button(rx.icon("user-x", size=14), "Deactivate", color_scheme="red", variant="soft",
                                  on_click=s.ask_deactivate),
                        rx.button(rx.cond(s.busy, rx.spinner(size="2"), rx.icon("user-check", size=14)), "Reactivate",
                                  color_scheme="green", variant="soft", on_click=s.reactivate, disabled=s.busy)),
                rx.fragment()),
        spacing="2", wrap="wrap",
    )
    return rx.card(
        rx.flex(
            _profile_photo(),
            rx.vstack(
                rx.hstack(rx.heading(e["name"], size="6"), status_badge(e["status"]), align="center", spacing="3",
                          wrap="wrap"),
                rx.text(rx.cond(e["designation"] != "", e["designation"], "No designation"),
                        rx.cond(e["department"] != "", " · " + e["department"], ""), size="3"),
                manager,
                spacing="1", min_width="0",
            ),
            rx.spacer(),
            actions,
            spacing="4", align="center", wrap="wrap", width="100%",
        ),
        width="100%", size="3",
    )


def _profile_tabs() -> rx.Component:
    s = ProfileState
    e = s.emp
    return rx.tabs.root(
        rx.tabs.list(
            rx.tabs.trigger("Details", value="details"),
            rx.tabs.trigger("Job", value="job"),
            rx.tabs.trigger("Reporting line", value="line"),
            rx.cond(s.shows_history, rx.tabs.trigger("History", value="history"), rx.fragment()),
            size=rx.breakpoints(initial="1", sm="2"), overflow_x="auto",
        ),
        rx.tabs.content(
            rx.data_list.root(
                _item("Work email", e["email"]),
                _item("Phone", e["phone"]),
                rx.cond(s.shows_personal, _item("Home address", e["address"]), rx.fragment()),
                rx.cond(s.shows_personal, _item("Date of birth", e["born"]), rx.fragment()),
                orientation=rx.breakpoints(initial="vertical", sm="horizontal"),
            ),
            rx.cond(s.shows_personal, rx.fragment(),
                    rx.text("Home address and date of birth are visible to HR and the person only.", size="1",
                            color_scheme="gray", padding_top="12px")),
            value="details", padding_top="16px",
        ),
        rx.tabs.content(
            rx.data_list.root(
                _item("Employee code", e["code"]),
                _item("Designation", e["designation"]),
                _item("Department", e["department"]),
                _item("Manager", e["manager"]),
                _item("Company", e["company"]),
                _item("Employment type", e["type"]),
                _item("Date of joining", e["joined"]),
                _item("Role", e["role"]),
                _item("Status", status_badge(e["status"])),
                orientation=rx.breakpoints(initial="vertical", sm="horizontal"),
            ),
            value="job", padding_top="16px",
        ),
        rx.tabs.content(_reporting_line(), value="line", padding_top="16px"),
        rx.tabs.content(_history(), value="history", padding_top="16px"),
        value=s.tab, on_change=s.set_tab, width="100%",
    )


def profile_page() -> rx.Component:
    return app_shell(
        rx.link(rx.hstack(rx.icon("arrow-left", size=14), rx.text("Employees", size="2"), align="center"),
                href="/employees", padding_bottom="12px"),
        rx.cond(
            ProfileState.found,
            rx.cond(
                ProfileState.emp.length() > 0,
                rx.vstack(_profile_header(), rx.card(_profile_tabs(), width="100%", size="2"), spacing="4",
                          width="100%"),
                rx.center(rx.spinner(size="3"), padding="48px", width="100%"),
            ),
            rx.callout("This person does not exist, or is not visible to you.", icon="user-x", color_scheme="gray"),
        ),
        employee_form_dialog(),
        _deactivate_dialog(),
        _remove_photo_dialog(),
    )


# ---------------------------------------------------------------- departments


def _department_row(d: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.vstack(
            rx.text(d["name"], weight="medium"),
            rx.cond(d["archived"], rx.badge("Archived", color_scheme="gray", display=NARROW), rx.fragment()),
            spacing="1", align="start")),
        rx.table.cell(d["company"], display=WIDE),
        rx.table.cell(rx.cond(d["head"] != "", d["head"], rx.text("—", color_scheme="gray"))),
        rx.table.cell(d["headcount"]),
        rx.table.cell(rx.cond(d["archived"], rx.badge("Archived", color_scheme="gray"),
                              rx.badge("Active", color_scheme="green")), display=WIDE),
        rx.table.cell(rx.flex(
            rx.button(rx.icon("pencil", size=14), rx.text("Edit", display=WIDE_INLINE), size="1", variant="soft",
                      on_click=DepartmentsState.start_edit(d["id"]), aria_label="Edit " + d["name"].to(str)),
            rx.button(rx.cond(d["archived"], rx.icon("archive-restore", size=14), rx.icon("archive", size=14)),
                      rx.text(rx.cond(d["archived"], "Restore", "Archive"), display=WIDE_INLINE), size="1",
                      variant="soft", color_scheme=rx.cond(d["archived"], "green", "gray"),
                      on_click=DepartmentsState.ask_archive(d["id"]),
                      aria_label=rx.cond(d["archived"], "Restore ", "Archive ") + d["name"].to(str)),
            direction=rx.breakpoints(initial="column", md="row"), spacing="2")),
    )


def _department_dialog() -> rx.Component:
    s = DepartmentsState
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(s.is_edit, "Edit department", "Add department")),
            rx.dialog.description("The head is shown on the department and in people's profiles.", size="2",
                                  color_scheme="gray"),
            rx.vstack(
                field("Name", rx.input(id="dept_name", value=s.name, on_change=s.set_name, size="2", width="100%"),
                      id="dept_name", error=s.errors.get("name", "")),
                field("Company", _select("dept_company", s.company, s.set_company, s.companies), id="dept_company",
                      error=s.errors.get("companyId", "")),
                field("Head", picker("dept_head", query=s.head_query, results=s.head_results, selected=s.head_name,
                                     on_query=s.search_head, on_pick=s.pick_head, on_clear=s.clear_head,
                                     placeholder="Type a name to search", clear_label="Clear head"),
                      id="dept_head", error=s.errors.get("headEmployeeId", "")),
                rx.hstack(
                    rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray")),
                    rx.button(rx.cond(s.busy, rx.spinner(size="2"), rx.fragment()), "Save", on_click=s.save,
                              disabled=s.busy),
                    justify="end", width="100%", spacing="2",
                ),
                spacing="3", width="100%", padding_top="12px",
            ),
            max_width="520px",
        ),
        open=s.dialog_open, on_open_change=s.set_dialog_open,
    )


def _archive_dialog() -> rx.Component:
    s = DepartmentsState
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title(rx.cond(s.confirm_archive, "Archive ", "Restore ") + s.confirm_name + "?"),
            rx.alert_dialog.description(
                rx.cond(s.confirm_archive,
                        "An archived department disappears from pickers and filters; its history stays. Only a "
                        "department without active people can be archived.",
                        "The department becomes available in pickers again."), size="2"),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.button(rx.cond(s.confirm_archive, "Archive", "Restore"), on_click=s.confirm, disabled=s.busy,
                          color_scheme=rx.cond(s.confirm_archive, "red", "green")),
                justify="end", spacing="2", padding_top="16px",
            ),
            max_width="460px",
        ),
        open=s.confirm_open, on_open_change=s.set_confirm_open,
    )


def departments_page() -> rx.Component:
    s = DepartmentsState
    return app_shell(
        page_header("Departments", rx.button(rx.icon("plus", size=16), "Add department", on_click=s.start_create),
                    subtitle="Headcount counts active people."),
        rx.card(
            rx.vstack(
                rx.el.label(rx.hstack(rx.switch(checked=s.show_archived, on_change=s.toggle_archived),
                                      rx.text("Show archived", size="2"), spacing="2", align="center")),
                rx.box(
                    rx.table.root(
                        rx.table.header(rx.table.row(
                            rx.table.column_header_cell("Name"), rx.table.column_header_cell("Company", display=WIDE),
                            rx.table.column_header_cell("Head"), rx.table.column_header_cell("People"),
                            rx.table.column_header_cell("Status", display=WIDE), rx.table.column_header_cell(""),
                        )),
                        rx.table.body(rx.foreach(s.rows, _department_row)),
                        width="100%", size=rx.breakpoints(initial="1", sm="2"), variant="ghost",
                    ),
                    width="100%", overflow_x="auto",
                ),
                rx.cond(s.rows.length() == 0,
                        rx.center(rx.text("No departments yet. Add one to group people.", size="2",
                                          color_scheme="gray"), padding="32px", width="100%"),
                        rx.fragment()),
                spacing="3", width="100%",
            ),
            width="100%", size=rx.breakpoints(initial="1", sm="2"),
        ),
        _department_dialog(),
        _archive_dialog(),
    )


# ---------------------------------------------------------------- org chart


def _chart_node(n: rx.Var) -> rx.Component:
    s = OrgChartState
    highlighted = s.highlight == n["id"].to(int)
    return rx.hstack(
        rx.box(width=n["indent"], flex_shrink="0"),
        rx.center(
            rx.cond(
                n["reports"].to(int) > 0,
                rx.icon_button(rx.cond(n["expanded"], rx.icon("chevron-down", size=16),
                                       rx.icon("chevron-right", size=16)),
                               on_click=s.toggle(n["id"]), variant="ghost", size="1",
                               aria_label=rx.cond(n["expanded"], "Collapse ", "Expand ") + n["name"].to(str),
                               aria_expanded=rx.cond(n["expanded"], "true", "false")),
                rx.fragment(),
            ),
            width="28px", height="28px", flex_shrink="0",
        ),
        rx.avatar(src=n["photo"], fallback=n["initials"], size="2", radius="full"),
        rx.vstack(
            rx.link(n["name"], href="/employees/" + n["id"].to(str), weight="medium", size="2"),
            rx.text(n["designation"], rx.cond(n["department"] != "", " · " + n["department"].to(str), ""),
                    size="1", color_scheme="gray"),
            spacing="0", min_width="0", flex="1",
        ),
        rx.cond(n["reports"].to(int) > 0,
                rx.badge(n["reports"], " ", rx.cond(n["reports"].to(int) == 1, "report", "reports"), variant="soft",
                         display=["none", "inline-flex"]),
                rx.fragment()),
        rx.tooltip(rx.icon_button(rx.icon("git-fork", size=14), on_click=s.start_from(n["id"]), variant="ghost",
                                  size="1", color_scheme="gray", aria_label="Start chart at " + n["name"].to(str)),
                   content="Show the chart from this person"),
        id="node-" + n["id"].to(str), align="center", spacing="2", width="100%", padding_y="6px", padding_x="8px",
        border_radius="8px",
        background_color=rx.cond(highlighted, rx.color("accent", 4), "transparent"),
        border_left=rx.cond(n["depth"].to(int) > 0, f"1px dashed {rx.color('gray', 6)}", "none"),
        _hover={"background_color": rx.cond(highlighted, rx.color("accent", 4), rx.color("gray", 3))},
    )


def org_chart_page() -> rx.Component:
    s = OrgChartState
    return app_shell(
        page_header("Org chart", subtitle="Who reports to whom. Expand a person to see their team."),
        rx.card(
            rx.vstack(
                rx.flex(
                    rx.box(picker("chart_search", query=s.query, results=s.results, selected="", on_query=s.search,
                                  on_pick=s.reveal, on_clear=s.show_top, placeholder="Find a person in the chart",
                                  clear_label="Clear", aria_label="Find a person in the chart"),
                           flex="1 1 260px", max_width="420px"),
                    rx.hstack(
                        rx.cond(s.root_name != "",
                                rx.button(rx.icon("arrow-up-to-line", size=14), "Back to the top", variant="soft",
                                          on_click=s.show_top),
                                rx.fragment()),
                        rx.button(rx.icon("chevrons-down", size=14), "Expand a level", variant="soft",
                                  color_scheme="gray", on_click=s.expand_all_levels),
                        spacing="2", wrap="wrap",
                    ),
                    spacing="3", wrap="wrap", width="100%", align="start", justify="between",
                ),
                rx.cond(s.root_name != "", rx.text("Starting from ", rx.text.strong(s.root_name), size="2",
                                                   color_scheme="gray"), rx.fragment()),
                rx.cond(s.nodes.length() > 0,
                        rx.vstack(rx.foreach(s.nodes, _chart_node), spacing="0", width="100%", role="tree",
                                  aria_label="Org chart"),
                        rx.text("Nobody to show yet.", size="2", color_scheme="gray")),
                spacing="3", width="100%",
            ),
            width="100%", size="2", overflow_x="auto",
        ),
    )


# ---------------------------------------------------------------- CSV import


def _upload_step() -> rx.Component:
    s = ImportState
    return rx.card(
        rx.vstack(
            rx.heading("1. Choose a CSV file", size="4"),
            rx.text("One row per person, with a header row. Rows are matched by email: a known email updates that "
                    "person (empty cells leave a field as it is), a new one creates an employee and their account. "
                    "New people need firstName, lastName and email. Managers are given by their email; departments "
                    "that do not exist yet are created.", size="2", color_scheme="gray"),
            rx.text("Columns: employeeCode, firstName, lastName, email, phone, designation, department, managerEmail, "
                    "company, employmentType (full_time, part_time, contract, intern), dateOfJoining and dateOfBirth "
                    "(YYYY-MM-DD), role (employee, manager, hr_manager, admin), addressLine1, addressLine2, city, "
                    "postalCode, country.", size="1", color_scheme="gray"),
            rx.button(rx.icon("file-down", size=14), "Download a template", variant="ghost", size="2",
                      on_click=s.download_template),
            error_callout(s.error),
            rx.upload(
                rx.vstack(
                    rx.icon("file-up", size=28, color=rx.color("accent", 9)),
                    rx.text("Drop a CSV file here, or click to choose one", size="2", weight="medium"),
                    rx.text("Up to 5 MB and 20,000 rows", size="1", color_scheme="gray"),
                    align="center", spacing="1",
                ),
                id="employee_csv", accept={"text/csv": [".csv"], "text/plain": [".csv", ".txt"]}, max_files=1,
                multiple=False, border=f"2px dashed {rx.color('gray', 7)}", border_radius="8px", padding="24px",
                width="100%", cursor="pointer",
            ),
            rx.foreach(rx.selected_files("employee_csv"),
                       lambda f: rx.hstack(rx.icon("file-text", size=14), rx.text(f, size="2"), align="center")),
            rx.hstack(
                rx.button(rx.cond(s.busy, rx.spinner(size="2"), rx.icon("scan-search", size=16)), "Check file",
                          on_click=s.handle_upload(rx.upload_files(upload_id="employee_csv")), disabled=s.busy),
                justify="end", width="100%",
            ),
            spacing="3", width="100%",
        ),
        width="100%", size="3",
    )


_ACTION_BADGES = {"create": ("New", "green"), "update": ("Update", "blue"), "unchanged": ("No change", "gray"),
                  "error": ("Error", "red")}


def _action_badge(action: rx.Var) -> rx.Component:
    return rx.match(action, *[(k, rx.badge(label, color_scheme=color)) for k, (label, color) in _ACTION_BADGES.items()],
                    rx.badge(action))


def _preview_row(r: rx.Var) -> rx.Component:
    detail_color = rx.cond(r["action"] == "error", rx.color("red", 11), rx.color("gray", 12))
    return rx.table.row(
        rx.table.cell(r["line"], display=WIDE),
        rx.table.row_header_cell(rx.vstack(
            rx.text(r["name"], weight="medium", size="2"),
            rx.text(r["email"], size="1", color_scheme="gray"),
            # on phones the details go under the person instead of into their own column
            rx.text("Line ", r["line"], ": ", r["detail"], size="1", color=detail_color,
                    display=["block", "block", "none"]),
            spacing="0")),
        rx.table.cell(_action_badge(r["action"])),
        rx.table.cell(rx.text(r["detail"], size="2", color=detail_color), display=WIDE),
    )


# The preview's row filter: a segmented control from tablet width, a select on phones (five labels do not fit).
_ROW_FILTERS = [(ALL, "All"), ("error", "Errors"), ("create", "New"), ("update", "Updates"), ("unchanged", "No change")]


def _preview_step() -> rx.Component:
    s = ImportState
    summary = s.summary
    return rx.vstack(
        rx.grid(
            stat_card("New people", summary["create"].to(str), "user-plus"),
            stat_card("Updates", summary["update"].to(str), "user-pen"),
            stat_card("No change", summary["unchanged"].to(str), "user-check"),
            stat_card("Rows with errors", summary["error"].to(str), "circle-alert"),
            columns=rx.breakpoints(initial="2", md="4"), spacing="3", width="100%",
        ),
        rx.cond(summary["newDepartments"].to(list[str]).length() > 0,
                rx.callout(rx.text("New departments will be created: ",
                                   summary["newDepartments"].to(list[str]).join(", ")), icon="building-2",
                           color_scheme="blue", width="100%"),
                rx.fragment()),
        rx.cond(summary["ignoredColumns"].to(list[str]).length() > 0,
                rx.callout(rx.text("These columns are not imported: ",
                                   summary["ignoredColumns"].to(list[str]).join(", ")), icon="info",
                           color_scheme="gray", width="100%"),
                rx.fragment()),
        error_callout(s.error),
        rx.card(
            rx.vstack(
                rx.flex(
                    rx.heading("2. Check the changes", size="4"),
                    rx.spacer(),
                    rx.box(rx.segmented_control.root(
                        *[rx.segmented_control.item(label, value=value) for value, label in _ROW_FILTERS],
                        value=s.row_filter, on_change=s.set_row_filter, size="1",
                    ), display=rx.breakpoints(initial="none", sm="block")),
                    rx.box(_select("import_row_filter", s.row_filter, s.set_row_filter,
                                   [{"value": v, "label": label} for v, label in _ROW_FILTERS], aria="Show rows"),
                           display=rx.breakpoints(initial="block", sm="none"), width="100%"),
                    wrap="wrap", spacing="2", width="100%", align="center",
                ),
                rx.box(
                    rx.table.root(
                        rx.table.header(rx.table.row(
                            rx.table.column_header_cell("Line", display=WIDE), rx.table.column_header_cell("Person"),
                            rx.table.column_header_cell("Action"),
                            rx.table.column_header_cell("Details", display=WIDE),
                        )),
                        rx.table.body(rx.foreach(s.rows, _preview_row)),
                        width="100%", size="1", variant="ghost",
                    ),
                    width="100%", overflow_x="auto",
                ),
                rx.cond(s.row_total == 0, rx.text("No rows of this kind.", size="2", color_scheme="gray"),
                        rx.fragment()),
                rx.hstack(
                    rx.text(s.row_total, " rows", size="2", color_scheme="gray"),
                    rx.spacer(),
                    rx.icon_button(rx.icon("chevron-left", size=16), on_click=s.go_rows(-1), disabled=s.row_page <= 1,
                                   variant="soft", aria_label="Previous rows"),
                    rx.text(s.row_page, " / ", s.row_pages, size="2"),
                    rx.icon_button(rx.icon("chevron-right", size=16), on_click=s.go_rows(1),
                                   disabled=s.row_page >= s.row_pages, variant="soft", aria_label="Next rows"),
                    align="center", width="100%", spacing="2",
                ),
                spacing="3", width="100%",
            ),
            width="100%", size="2",
        ),
        rx.card(
            rx.vstack(
                rx.heading("3. Import", size="4"),
                rx.cond(s.has_errors,
                        rx.vstack(
                            rx.text("Rows with errors are never imported. Fix the file and check it again, or "
                                    "import only the valid rows.", size="2", color_scheme="gray"),
                            rx.el.label(rx.hstack(rx.checkbox(checked=s.only_valid, on_change=s.set_only_valid),
                                                  rx.text("Import only the valid rows (skip ", summary["error"], ")",
                                                          size="2"),
                                                  spacing="2", align="center")),
                            spacing="2"),
                        rx.fragment()),
                rx.el.label(rx.hstack(rx.checkbox(checked=s.send_welcome, on_change=s.set_send_welcome),
                                      rx.text("Email new people a welcome message with a set-password link", size="2"),
                                      spacing="2", align="center")),
                rx.hstack(
                    rx.button("Choose another file", variant="soft", color_scheme="gray", on_click=s.start_over),
                    rx.button(rx.icon("check", size=16), "Import", on_click=s.apply, disabled=~s.can_apply),
                    justify="end", width="100%", spacing="2", wrap="wrap",
                ),
                spacing="3", width="100%",
            ),
            width="100%", size="2",
        ),
        spacing="4", width="100%",
    )


def _applying_step() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Importing…", size="4"),
            rx.progress(value=ImportState.progress, max=100, width="100%", size="3", aria_label="Import progress"),
            rx.text(ImportState.progress_label, size="2", color_scheme="gray"),
            rx.text("Everything is written in one go: if something fails, nothing is changed.", size="1",
                    color_scheme="gray"),
            spacing="3", width="100%",
        ),
        width="100%", size="3",
    )


def _done_step() -> rx.Component:
    r = ImportState.result
    return rx.card(
        rx.vstack(
            rx.callout(rx.text("Import finished: ", r["created"], " added, ", r["updated"], " updated, ",
                               r["skipped"], rx.cond(r["skipped"].to(int) == 1, " row", " rows"), " skipped, ",
                               r["departmentsCreated"],
                               rx.cond(r["departmentsCreated"].to(int) == 1, " department", " departments"),
                               " created."),
                       icon="circle-check", color_scheme="green", width="100%", role="status"),
            rx.foreach(r["notes"].to(list[str]), lambda note: rx.text(note, size="2", color_scheme="gray")),
            rx.hstack(
                rx.button("Import another file", variant="soft", on_click=ImportState.start_over),
                rx.link(rx.button(rx.icon("users", size=16), "Open the directory"), href="/employees"),
                spacing="2", justify="end", width="100%", wrap="wrap",
            ),
            spacing="3", width="100%",
        ),
        width="100%", size="3",
    )


def import_page() -> rx.Component:
    s = ImportState
    return app_shell(
        rx.link(rx.hstack(rx.icon("arrow-left", size=14), rx.text("Employees", size="2"), align="center"),
                href="/employees", padding_bottom="12px"),
        page_header("Import employees", subtitle=rx.cond(s.filename != "", "File: " + s.filename,
                                                         "Create and update people from a CSV file.")),
        rx.match(s.step, ("preview", _preview_step()), ("applying", _applying_step()), ("done", _done_step()),
                 _upload_step()),
    )

