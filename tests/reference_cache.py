"""The Python reference's cache-file behaviour (carto-auth 0.2.0), as it is
published, for the interoperability tests: written here from its
documented behaviour, not copied.

    reference_cache.py write FILE API_BASE_URL TOKEN EXPIRES_IN
    reference_cache.py remaining FILE      seconds left, as the reference sees them
    reference_cache.py rewrite FILE        load and save it back, as the reference does
    reference_cache.py expire FILE         set expiration 60 s in the past (its frame)
"""
import json
import sys
from datetime import datetime, timedelta


def expiration_after(seconds):
    # UTC wall-clock time read as local time, as the reference computes it.
    return int((datetime.utcnow() + timedelta(seconds=seconds)).timestamp())


def now():
    return datetime.utcnow().timestamp()


def load(path):
    with open(path) as f:
        data = json.load(f)
    if "api_base_url" in data and "access_token" in data and "expiration" in data:
        return data
    return None


def save(path, data):
    with open(path, "w") as f:
        json.dump({k: data[k] for k in ("api_base_url", "access_token", "expiration")}, f)


def main(argv):
    command, path = argv[1], argv[2]
    if command == "write":
        api, token, seconds = argv[3], argv[4], int(argv[5])
        save(path, {"api_base_url": api, "access_token": token,
                    "expiration": expiration_after(seconds)})
    elif command == "remaining":
        print(int(load(path)["expiration"] - now()))
    elif command == "rewrite":
        save(path, load(path))
    elif command == "expire":
        data = load(path)
        data["expiration"] = expiration_after(-60)
        save(path, data)
    else:
        raise SystemExit("unknown command " + command)


if __name__ == "__main__":
    main(sys.argv)
