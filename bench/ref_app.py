"""The reference for start-up figures: a minimal two-command Typer app (bench/startup.py)."""

import typer

app = typer.Typer(help="A minimal two-command Typer app.")


@app.command()
def hello(name: str = "world") -> None:
    """Say hello."""
    print(f"hello {name}")


@app.command()
def bye() -> None:
    """Say goodbye."""
    print("bye")


if __name__ == "__main__":
    app()
