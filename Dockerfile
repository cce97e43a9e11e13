# The service image: worker and API run from the same image with different commands.
FROM node:24-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY src ./src
COPY workflows ./workflows
COPY activities ./activities
COPY migrations ./migrations
COPY knexfile.ts tsconfig.json ./
USER node
CMD ["node", "src/main.ts"]
