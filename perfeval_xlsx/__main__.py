"""`python -m perfeval_xlsx` and the `perfeval` command's entry point.

Nothing is imported here until the command runs: batch workers are spawned processes, and spawn
runs the main script again in each of them (under another name, so that `main()` is not
called). A console script whose top imported the CLI would load typer, click and pydantic into
every worker.
"""


def main():
    from perfeval_xlsx.cli import main as cli_main

    return cli_main()


if __name__ == "__main__":
    main()
