"""The floor for the API scenarios of bench/run.py: a bare Starlette app on psycopg (no ORM, no auth, no
middleware) that runs the same SQL statements the portal's services run, served by granian with the same
worker count as the portal. Started and stopped by bench/run.py; not part of the application.

    BENCH_FLOOR_DSN=postgresql://postgres@127.0.0.1:5432/bench granian --interface asgi bench.floor_app:app
"""

from __future__ import annotations

import asyncio
import os

import psycopg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

DSN = os.environ.get("BENCH_FLOOR_DSN", "postgresql://postgres@127.0.0.1:5432/bench")
ORG = int(os.environ.get("BENCH_FLOOR_ORG", "1"))
POOL_SIZE = 10

EMP_COLS = ("id, organization_id, company_id, department_id, manager_id, user_id, employee_code, first_name, last_name, "
            "email, phone, designation, employment_type, status, date_of_joining, date_of_birth, address_line1, "
            "address_line2, city, postal_code, country, created_at, updated_at")
E_COLS = ", ".join("e." + c.strip() for c in EMP_COLS.split(","))


class Pool:
    """The smallest connection pool that works: a queue of open connections (psycopg_pool is not installed)."""

    def __init__(self, size: int):
        self.size, self.created = size, 0
        self.queue: asyncio.Queue[psycopg.AsyncConnection] = asyncio.Queue()

    async def get(self) -> psycopg.AsyncConnection:
        if self.queue.empty() and self.created < self.size:
            self.created += 1
            return await psycopg.AsyncConnection.connect(DSN, autocommit=False)
        return await self.queue.get()

    def put(self, conn: psycopg.AsyncConnection) -> None:
        self.queue.put_nowait(conn)


pool = Pool(POOL_SIZE)


def _jsonable(row: tuple, cols: list[str]) -> dict:
    return {c: (v.isoformat() if hasattr(v, "isoformat") else v) for c, v in zip(cols, row, strict=False)}


async def employee(request: Request) -> JSONResponse:
    """The four statements of employees.service.get_employee: the person, department, manager, company."""
    emp_id = int(request.path_params["emp_id"])
    conn = await pool.get()
    try:
        async with conn.transaction():
            cur = await conn.execute(f"SELECT {EMP_COLS} FROM employees WHERE id = %s AND organization_id = %s",
                                     (emp_id, ORG))
            row = await cur.fetchone()
            if row is None:
                return JSONResponse({"success": False}, status_code=404)
            cols = [d.name for d in cur.description]
            data = _jsonable(row, cols)
            if data["department_id"]:
                await (await conn.execute("SELECT id, name FROM departments WHERE id = %s",
                                          (data["department_id"],))).fetchone()
            if data["manager_id"]:
                await (await conn.execute(f"SELECT {EMP_COLS} FROM employees WHERE id = %s",
                                          (data["manager_id"],))).fetchone()
            await (await conn.execute("SELECT id, name, timezone FROM companies WHERE id = %s",
                                      (data["company_id"],))).fetchone()
    finally:
        pool.put(conn)
    return JSONResponse({"success": True, "data": data})


async def employees(request: Request) -> JSONResponse:
    """The three statements of employees.service.list_employees: count, the page's ids, the page's rows."""
    page = int(request.query_params.get("page", "1"))
    limit = int(request.query_params.get("limit", "20"))
    conn = await pool.get()
    try:
        async with conn.transaction():
            total = (await (await conn.execute("SELECT count(*) FROM employees WHERE organization_id = %s",
                                               (ORG,))).fetchone())[0]
            ids = [r[0] for r in await (await conn.execute(
                "SELECT id FROM employees WHERE organization_id = %s ORDER BY last_name, first_name, id "
                "LIMIT %s OFFSET %s", (ORG, limit, (page - 1) * limit))).fetchall()]
            cur = await conn.execute(
                f"SELECT {E_COLS}, d.name, m.first_name, m.last_name FROM employees e "
                "LEFT JOIN departments d ON d.id = e.department_id LEFT JOIN employees m ON m.id = e.manager_id "
                "WHERE e.id = ANY(%s) ORDER BY e.last_name, e.first_name, e.id", (ids,))
            cols = [d.name for d in cur.description]
            rows = [_jsonable(r, cols) for r in await cur.fetchall()]
    finally:
        pool.put(conn)
    return JSONResponse({"success": True, "data": rows, "pagination": {"page": page, "limit": limit, "total": total}})


async def write(request: Request) -> JSONResponse:
    """The smallest write transaction an apply or check-in makes: lock the person's row, insert a row, commit."""
    emp_id = int(request.query_params["employee"])
    conn = await pool.get()
    try:
        async with conn.transaction():
            await conn.execute("SELECT id FROM employees WHERE id = %s AND organization_id = %s FOR UPDATE",
                               (emp_id, ORG))
            cur = await conn.execute("INSERT INTO bench_floor_writes (employee_id, note) VALUES (%s, %s) RETURNING id",
                                     (emp_id, "floor"))
            new_id = (await cur.fetchone())[0]
    finally:
        pool.put(conn)
    return JSONResponse({"success": True, "data": {"id": new_id}}, status_code=201)


async def health(_request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


app = Starlette(routes=[
    Route("/floor/employees/{emp_id:int}", employee),
    Route("/floor/employees", employees),
    Route("/floor/write", write, methods=["POST"]),
    Route("/floor/health", health),
])
