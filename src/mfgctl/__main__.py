from mfgctl.cli import main

main()
