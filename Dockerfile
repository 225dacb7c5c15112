# The application image: one image, three roles (api, worker, migrate), chosen by the command.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production CHECKPOINT_DISABLE=1
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --include=dev
COPY . .
RUN npm run generate
USER node
EXPOSE 3000
CMD ["node", "--import", "tsx", "api/server.ts"]
