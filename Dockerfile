# The ledger and its Telegram bot, as docker-compose.yml runs it next to PostgreSQL.
FROM node:20-bookworm-slim

WORKDIR /app
ENV NODE_ENV=production

# Dependencies are installed here, at build time, never when the container starts. The sources
# come first so that a build step the package may run on install (`prepare`) finds them.
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY scripts ./scripts
COPY src ./src
COPY projections ./projections
COPY migrations ./migrations
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# The embedded ledger's folder, used only when DATABASE_URL is unset.
RUN mkdir -p /app/.ledger && chown node:node /app/.ledger
USER node

# Migrates, reports, and runs the bot when TELEGRAM_BOT_TOKEN is set; without one it says so,
# with what to do next, and stays up (a container that exited would be restarted over and over).
CMD ["node", "bin/plugin-ledger.js", "start", "--stay"]
